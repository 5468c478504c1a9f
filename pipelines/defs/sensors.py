"""Request a refresh when files under the raw dir appear or change (path, size, mtime).

The sensor's cursor is the fingerprint it last requested a run for; each run's landing records
the fingerprint it saw (WAREHOUSE_HOME/last_raw.json). A fingerprint equal to either is not
new: starting the UI (the cursor is empty then) launches no refresh when no raw file changed
since the last run, whoever started that run (`warehouse run`, the schedule, the UI).

The raw dir and the home come from the ``warehouse`` resource, like everything else the code
location reads (a sensor's evaluation takes no writer lock: it only lists the raw dir).
"""

# No `from __future__ import annotations`: Dagster finds the resource by its annotation's class.
import dagster as dg

from pipelines.defs.jobs import nightly_refresh
from pipelines.defs.resources import WarehouseResource
from pipelines.runstate import last_raw_fingerprint, raw_dir_fingerprint

__all__ = ["raw_dir_fingerprint", "raw_files_sensor"]


@dg.sensor(
    name="raw_files_sensor",
    job=nightly_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def raw_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    raw_dir = warehouse.raw_path
    fingerprint, count = raw_dir_fingerprint(raw_dir)
    if count == 0:
        return dg.SkipReason(f"no files under {raw_dir}")
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed files")
    if fingerprint == last_raw_fingerprint(warehouse.home_path):
        context.update_cursor(fingerprint)
        return dg.SkipReason("no raw file changed since the last run")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint, tags={"trigger": "raw_files_sensor"})
