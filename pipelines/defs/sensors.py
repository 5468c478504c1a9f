"""Request a refresh when files under the raw dir appear or change (path, size, mtime)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.defs.jobs import nightly_refresh
from pipelines.settings import load_settings, raw_export_files


def raw_dir_fingerprint(raw_dir: Path) -> tuple[str, int]:
    """A digest of every export's (relative path, size, mtime), and the file count."""
    digest = hashlib.sha256()
    count = 0
    for path in raw_export_files(raw_dir):
        stat = path.stat()
        entry = f"{path.relative_to(raw_dir).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}\n"
        digest.update(entry.encode())
        count += 1
    return digest.hexdigest(), count


@dg.sensor(
    name="raw_files_sensor",
    job=nightly_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    raw_dir = load_settings().raw_dir
    fingerprint, count = raw_dir_fingerprint(raw_dir)
    if count == 0:
        return dg.SkipReason(f"no files under {raw_dir}")
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed files")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint, tags={"trigger": "raw_files_sensor"})
