"""The file sensor requests a run for new or changed files only; the schedule is nightly."""

import os

import dagster as dg

from pipelines import runstate
from pipelines.defs.schedules import nightly_schedule
from pipelines.defs.sensors import raw_files_sensor


def _evaluate(cursor):
    context = dg.build_sensor_context(cursor=cursor)
    result = raw_files_sensor(context)
    return result, context.cursor


def test_sensor_requests_a_run_for_new_and_changed_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path / "home"))
    (tmp_path / "raw").mkdir()
    result, cursor = _evaluate(None)
    assert isinstance(result, dg.SkipReason)  # empty drop zone

    (tmp_path / "raw" / "traffic").mkdir()
    export = tmp_path / "raw" / "traffic" / "a.csv"
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


def test_starting_the_ui_launches_nothing_when_no_raw_file_changed_since_the_last_run(
        tmp_path, monkeypatch):
    """Issue 16 item 7: a fresh sensor (empty cursor, as when `warehouse dev` starts) compares
    with the raw-dir fingerprint the last run's landing recorded."""
    raw, home = tmp_path / "raw", tmp_path / "home"
    monkeypatch.setenv("WAREHOUSE_RAW_DIR", str(raw))
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    (raw / "traffic").mkdir(parents=True)
    export = raw / "traffic" / "a.csv"
    export.write_text("ticket_id\n1\n")
    home.mkdir()
    fingerprint, files = runstate.raw_dir_fingerprint(raw)
    runstate.record_raw_fingerprint(home, fingerprint, files, "last-run")  # as landing does

    result, cursor = _evaluate(None)
    assert isinstance(result, dg.SkipReason), result
    assert "no raw file changed since the last run" in result.skip_message
    assert cursor == fingerprint

    export.write_text("ticket_id\n1\n2\n")  # a file changes after the last run: a refresh
    result, _ = _evaluate(cursor)
    assert isinstance(result, dg.RunRequest)
    # also when the cursor is stale but a run (e.g. `warehouse run`) already saw the change
    runstate.record_raw_fingerprint(home, *runstate.raw_dir_fingerprint(raw), "cli-run")
    result, _ = _evaluate(cursor)
    assert isinstance(result, dg.SkipReason)


def test_nightly_schedule_runs_at_two_beijing_time():
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_schedule.job_name == "nightly_refresh"
