"""Bulletins of a published version: `published/bulletins/<version>/`, listed in latest.json.

The bulletin writer (pipelines/bulletin/batch.py) renders into a staging folder beside the
version folders, without holding the publish lock; `attach_bulletins` then moves the folder
into place and records it in latest.json under the lock, only while latest.json still names
that version. A failed or late bulletin never changes which version is published.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines.publish.fsutil import fsync_dir, publish_lock, remove_tree, tmp_area
from pipelines.publish.manifest import read_latest, write_latest
from pipelines.publish.snapshot import is_version

BULLETINS_DIRNAME = "bulletins"
INDEX_NAME = "index.json"
STAGING_PREFIX = ".staging-"


def bulletins_dir(published_dir: Path) -> Path:
    return published_dir / BULLETINS_DIRNAME


def staging_dir(published_dir: Path, version: str) -> Path:
    return bulletins_dir(published_dir) / f"{STAGING_PREFIX}{version}-{os.getpid()}"


def read_index(published_dir: Path, version: str) -> dict[str, Any] | None:
    path = bulletins_dir(published_dir) / version / INDEX_NAME
    if not path.exists():
        return None
    return json.loads(path.read_text())


def bulletins_entry(published_dir: Path, version: str) -> dict[str, Any] | None:
    """What latest.json says about the version's bulletins (absolute paths), or None."""
    index = read_index(published_dir, version)
    if index is None:
        return None
    folder = bulletins_dir(published_dir).resolve() / version
    items = [
        {**item, "html": str(folder / item["html"]), "text": str(folder / item["text"])}
        for item in index.get("items", [])
    ]
    return {
        "version": version,
        "dir": str(folder),
        "index": str(folder / INDEX_NAME),
        "generated_at": index.get("generated_at"),
        "items": items,
        "failed": index.get("failed", []),
    }


def attach_bulletins(published_dir: Path, version: str, staged: Path) -> bool:
    """Move `staged` (a complete folder holding index.json) to bulletins/<version>/, replacing
    an older one, and list it in latest.json if latest.json still names `version`. Returns
    whether it is listed. A version whose snapshot is gone gets no bulletins."""
    published_dir = Path(published_dir).resolve()
    with publish_lock(published_dir):
        snapshot = published_dir / "snapshots" / version
        if not (snapshot / "manifest.json").exists():
            remove_tree(staged, tmp_area(published_dir))
            return False
        target = bulletins_dir(published_dir) / version
        if target.exists():
            remove_tree(target, tmp_area(published_dir))
        os.rename(staged, target)
        fsync_dir(target.parent)
        latest = read_latest(published_dir)
        if latest is None or latest.get("version") != version:
            return False
        latest["bulletins"] = bulletins_entry(published_dir, version)
        write_latest(published_dir, latest)
        return True


def is_listed(published_dir: Path, version: str) -> bool:
    latest = read_latest(Path(published_dir))
    return bool(
        latest
        and latest.get("version") == version
        and (latest.get("bulletins") or {}).get("version") == version
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_bulletins(published_dir: Path, kept_versions: set[str]) -> list[str]:
    """Remove the bulletins of versions whose snapshot is gone, and staging folders left by
    writers that died. Call under the publish lock."""
    root = bulletins_dir(published_dir)
    if not root.is_dir():
        return []
    removed = []
    for entry in root.iterdir():
        name = entry.name
        if name.startswith(STAGING_PREFIX):
            pid = name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                remove_tree(entry, tmp_area(published_dir))
        elif is_version(name) and name not in kept_versions:
            remove_tree(entry, tmp_area(published_dir))
            removed.append(name)
    return removed
