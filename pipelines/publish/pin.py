"""A rollback pins the catalog: `published/pin.json` names the version BI must stay on.

While the pin exists, publish() publishes nothing (its result says "pinned"): nightly runs go
on landing, building and validating, and BI keeps reading the pinned version. Only an operator
removes the pin (`warehouse release`). The pin is written and removed under the publish lock,
like every other change to published/, so a publish never races a rollback or a release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.publish.fsutil import atomic_write_json, fsync_dir, tmp_area

PIN_NAME = "pin.json"


def pin_path(published_dir: Path) -> Path:
    return Path(published_dir) / PIN_NAME


def read_pin(published_dir: Path) -> dict[str, Any] | None:
    """The pin, or None. An unreadable pin file still pins (fail safe: nothing is published
    over a rollback by accident); its content is then reported as unknown."""
    path = pin_path(published_dir)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": None, "at": None, "note": f"{path} is unreadable"}
    return data if isinstance(data, dict) else {"version": None, "at": None}


def write_pin(published_dir: Path, payload: dict[str, Any]) -> None:
    """Call under the publish lock."""
    atomic_write_json(pin_path(published_dir), payload, tmp_area(published_dir))


def remove_pin(published_dir: Path) -> dict[str, Any] | None:
    """Call under the publish lock. Returns the pin that was removed, if any."""
    pin = read_pin(published_dir)
    path = pin_path(published_dir)
    if path.exists():
        path.unlink()
        fsync_dir(Path(published_dir))
    return pin
