"""The file sensor requests a run for new or changed files only; the schedule is nightly.

The sensor reads the raw dir and the home from the `warehouse` resource (not the environment);
evaluating it takes no writer lock."""

import os
import subprocess
import sys
import threading

import dagster as dg
import pytest

from pipelines import runstate
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import nightly_schedule
from pipelines.defs.sensors import raw_files_sensor

pytestmark = pytest.mark.unit


def _evaluate(cursor, tmp_path):
    warehouse = WarehouseResource(raw_dir=str(tmp_path / "raw"), home=str(tmp_path / "home"))
    with dg.build_sensor_context(cursor=cursor, resources={"warehouse": warehouse}) as context:
        result = raw_files_sensor(context)
        return result, context.cursor


def test_sensor_requests_a_run_for_new_and_changed_files_only(tmp_path):
    (tmp_path / "raw").mkdir()
    result, cursor = _evaluate(None, tmp_path)
    assert isinstance(result, dg.SkipReason)  # empty drop zone

    (tmp_path / "raw" / "traffic").mkdir()
    export = tmp_path / "raw" / "traffic" / "a.csv"
    export.write_text("ticket_id\n1\n")
    result, cursor = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.RunRequest)
    first_key = result.run_key

    result, cursor_after = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.SkipReason)  # nothing changed
    assert cursor_after == cursor

    export.write_text("ticket_id\n1\n2\n")  # same path, new size
    result, cursor = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.RunRequest) and result.run_key != first_key

    stat = export.stat()  # same size, new mtime: a re-exported file
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    result, cursor = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.RunRequest)


def test_starting_the_ui_launches_nothing_when_no_raw_file_changed_since_the_last_run(tmp_path):
    """A fresh sensor (empty cursor, as when `warehouse dev` starts) compares with the raw-dir
    fingerprint the last run's landing recorded."""
    raw, home = tmp_path / "raw", tmp_path / "home"
    (raw / "traffic").mkdir(parents=True)
    export = raw / "traffic" / "a.csv"
    export.write_text("ticket_id\n1\n")
    home.mkdir()
    fingerprint, files = runstate.raw_dir_fingerprint(raw)
    runstate.record_raw_fingerprint(home, fingerprint, files, "last-run")  # as landing does

    result, cursor = _evaluate(None, tmp_path)
    assert isinstance(result, dg.SkipReason), result
    assert "no raw file changed since the last run" in result.skip_message
    assert cursor == fingerprint

    export.write_text("ticket_id\n1\n2\n")  # a file changes after the last run: a refresh
    result, _ = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.RunRequest)
    # also when the cursor is stale but a run (e.g. `warehouse run`) already saw the change
    runstate.record_raw_fingerprint(home, *runstate.raw_dir_fingerprint(raw), "cli-run")
    result, _ = _evaluate(cursor, tmp_path)
    assert isinstance(result, dg.SkipReason)


def test_nightly_schedule_runs_at_two_beijing_time():
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_schedule.job_name == "nightly_refresh"


HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipelines import runstate
with runstate.acquire_writer(Path(sys.argv[1]), run_id="running", command="test"):
    print("held", flush=True)
    time.sleep(120)
"""


def test_evaluating_the_sensor_takes_no_writer_lock_while_a_refresh_holds_it(tmp_path):
    raw, home = tmp_path / "raw", tmp_path / "home"
    (raw / "traffic").mkdir(parents=True)
    (raw / "traffic" / "a.csv").write_text("ticket_id\n1\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(home)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        outcome = []
        # in a thread: a sensor that took the lock would wait for the refresh to end
        evaluation = threading.Thread(
            target=lambda: outcome.append(_evaluate(None, tmp_path)), daemon=True
        )
        evaluation.start()
        evaluation.join(timeout=60)
        assert outcome, "the sensor waited for the refresh's writer lock"
        assert isinstance(outcome[0][0], dg.RunRequest)
    finally:
        holder.kill()
        holder.wait()
