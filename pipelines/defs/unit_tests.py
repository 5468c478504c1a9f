"""dbt's unit tests run when the code they test changed, not every night.

A unit test feeds a model fixed rows and compares its output with fixed rows (`rate()`
rounding, campaign attribution, latest export wins): it tests the SQL, not the night's data,
so on unchanged code it passes again by construction (dbt's documentation recommends running
them in development and CI only). The nightly build runs them whenever the code changed since
they last all passed in this warehouse: the dbt project's files, or the versions of dbt, its
DuckDB adapter and DuckDB. The fingerprint of that code is kept beside dbt's target
(``unit_tests_passed.json``); without it (a fresh warehouse), after a change, or after a
unit test failed, `dbt build` runs them before their models as before. `make test` runs them
on every change: every end-to-end test starts from a fresh warehouse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

MARKER = "unit_tests_passed.json"
EXCLUDE = ["--exclude-resource-type", "unit_test"]
VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")


def code_fingerprint(paths: Iterable[Path], root: Path) -> str:
    """sha256 over the files' paths and contents and the versions of dbt, dbt-duckdb, DuckDB."""
    digest = hashlib.sha256()
    for name in VERSIONED:
        digest.update(f"{name}=={package_version(name)}\n".encode())
    for path in sorted(Path(p) for p in paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def passed_on(target_dir: Path) -> dict | None:
    """What the marker records (fingerprint, run, time), or None."""
    try:
        marker = json.loads((Path(target_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def skip_args(target_dir: Path, fingerprint: str) -> list[str]:
    """The `dbt build` arguments that leave the unit tests out: when they all passed on this
    very code."""
    marker = passed_on(target_dir)
    return list(EXCLUDE) if marker and marker.get("fingerprint") == fingerprint else []


def record_if_all_passed(
    target_dir: Path, fingerprint: str, run_id: str, build_started: float
) -> bool:
    """After a build that ran the unit tests: keep the fingerprint if every unit test of the
    manifest ran and passed in that build (`build_started`: its start, as time.time(); an
    older run_results.json is another build's). A subset build, a failure or a skip records
    nothing; a failure removes what an earlier run recorded."""
    target_dir = Path(target_dir)
    try:
        if (target_dir / "run_results.json").stat().st_mtime < build_started:
            return False
        results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
        manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    statuses = {
        r.get("unique_id"): r.get("status")
        for r in results.get("results", [])
        if str(r.get("unique_id", "")).startswith("unit_test.")
    }
    expected = set(manifest.get("unit_tests", {}))
    if any(s not in ("pass", "success") for s in statuses.values()):
        with contextlib.suppress(OSError):
            (target_dir / MARKER).unlink(missing_ok=True)
        return False
    if not expected or set(statuses) != expected:
        return False
    marker = {
        "fingerprint": fingerprint,
        "run_id": run_id,
        "passed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "unit_tests": len(expected),
    }
    path = target_dir / MARKER
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:  # (a full disk) the unit tests only run again next time
        return False
    return True
