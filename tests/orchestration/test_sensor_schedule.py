"""The file sensor requests a run for new or changed files only; the schedule is nightly."""

import os

import dagster as dg

from pipelines.defs.schedules import nightly_schedule
from pipelines.defs.sensors import raw_files_sensor


def _evaluate(cursor):
    context = dg.build_sensor_context(cursor=cursor)
    result = raw_files_sensor(context)
    return result, context.cursor


def test_sensor_requests_a_run_for_new_and_changed_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_RAW_DIR", str(tmp_path))
    result, cursor = _evaluate(None)
    assert isinstance(result, dg.SkipReason)  # empty drop zone

    (tmp_path / "traffic").mkdir()
    export = tmp_path / "traffic" / "a.csv"
    export.write_text("ticket_id\n1\n")
    result, cursor = _evaluate(cursor)
    assert isinstance(result, dg.RunRequest)
    first_key = result.run_key

    result, cursor_after = _evaluate(cursor)
    assert isinstance(result, dg.SkipReason)  # nothing changed
    assert cursor_after == cursor

    export.write_text("ticket_id\n1\n2\n")  # same path, new size
    result, cursor = _evaluate(cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key != first_key

    stat = export.stat()  # same size, new mtime: a re-exported file
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    result, cursor = _evaluate(cursor)
    assert isinstance(result, dg.RunRequest)


def test_nightly_schedule_runs_at_two_beijing_time():
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_schedule.job_name == "nightly_refresh"
