"""`warehouse status` and `warehouse quarantine` for operators: only files whose
latest version failed, failures fixed by a re-export shown as fixed, unknown spellings with the
file to fix them in; and while a refresh holds the writer lock: status answers within 2 s from
the last run's snapshot, quarantine refuses at once instead of hanging."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import opsview, runstate
from tests.orchestration.ledger import HeldRefresh, build_ops

WAREHOUSE = Path(sys.executable).with_name("warehouse")


def warehouse(args, home: Path, raw: Path | None = None):
    env = {
        **os.environ,
        "WAREHOUSE_HOME": str(home),
        "WAREHOUSE_PII_KEY": "status-test",
        "WAREHOUSE_RAW_DIR": str(raw or home / "raw"),
    }
    began = time.monotonic()
    out = subprocess.run(
        [str(WAREHOUSE), *args], capture_output=True, text=True, env=env, timeout=60
    )
    return out, time.monotonic() - began


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    build_ops(home / "warehouse.duckdb")
    raw = home / "raw"
    for rel in ("inspections/a.csv", "disputes/b.xlsx", "traffic/c.csv", "traffic/d.csv"):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text("x")
    return home


@pytest.mark.unit
def test_open_and_fixed_failures(tmp_path):
    db = build_ops(tmp_path / "w.duckdb")
    with duckdb.connect(str(db), read_only=True) as conn:
        failures = opsview.file_failures(conn)
    assert [(f["path"], f["message"], bool(f["retry"])) for f in failures["open"]] == [
        ("disputes/b.xlsx", "not a readable xlsx workbook", False),
        ("traffic/c.csv", "still being written (size changed while read)", True),
        ("traffic/d.csv", "no recognisable header (again)", False),
    ]
    assert [(f["path"], f["fixed_by"]) for f in failures["fixed"]] == [
        ("inspections/a.csv", "v-inspections/a.csv-2")
    ]


@pytest.mark.unit
def test_unknown_spellings_and_quarantine_filters(tmp_path):
    db = build_ops(tmp_path / "w.duckdb")
    with duckdb.connect(str(db), read_only=True) as conn:
        unknown = opsview.unknown_values(conn)
        by_reason, total = opsview.quarantine_rows(conn, reason="unknown_station")
        in_file, _ = opsview.quarantine_rows(conn, file="inspections/e.csv")
        station, _ = opsview.quarantine_rows(conn, station="古林所")
        few, many = opsview.quarantine_rows(conn, limit=2)
    assert [(u["kind"], u["value"], u["rows"], u["files"]) for u in unknown] == [
        ("station", "东郊所", 3, ["inspections/e.csv", "traffic/x.xlsx"]),
        ("action", "口头", 1, ["traffic/x.xlsx"]),
        ("violation", "乱停车", 1, ["traffic/x.xlsx"]),
    ]
    assert total == 3 and {r["reason"] for r in by_reason} == {"unknown_station"}
    assert [r["line"] for r in in_file] == [5, 6, 7, 8]
    assert [(r["file"], r["line"]) for r in station] == [
        ("inspections/e.csv", 5),
        ("traffic/x.xlsx", 4),
    ]
    assert len(few) == 2 and many == 7


def test_status_lists_open_failures_fixed_ones_and_spellings_with_their_fix_file(home):
    out, _ = warehouse(["status"], home)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    failed = [line for line in text.splitlines() if line.strip().startswith("FAILED")]
    assert [line.split(":")[0].split()[-1] for line in failed] == [
        "disputes/b.xlsx",
        "traffic/c.csv",
        "traffic/d.csv",
    ]
    assert "[retried every run]" in failed[1]
    assert "fixed inspections/a.csv" in text
    assert "station '东郊所' [" not in text and "station '东郊所': 3 row(s) in " in text
    assert "station_aliases.csv" in text and "stations*.csv" in text
    assert "code_crosswalk.csv (violation,<raw value>,<code>)" in text
    assert "REFRESH RUNNING" not in text


def test_while_a_refresh_holds_the_lock_status_answers_and_quarantine_refuses(home):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        runstate.write_status(home, opsview.snapshot(conn, "previous-run"))
    held = HeldRefresh(home)
    try:
        status, took = warehouse(["status"], home)
        quarantine, q_took = warehouse(["quarantine"], home)
    finally:
        held.stop()
    assert status.returncode == 0, status.stderr
    assert took < 2.0, took
    assert "REFRESH RUNNING since " in status.stdout and "held-run-1" in status.stdout
    assert f"pid {held.proc.pid}" in status.stdout
    assert "as of the end of the previous run" in status.stdout
    assert "FAILED disputes/b.xlsx" in status.stdout  # from the snapshot
    assert quarantine.returncode == runstate.EX_TEMPFAIL
    assert "another refresh is running since" in quarantine.stderr
    assert q_took < 5.0, q_took
    # with the lock free again, quarantine reads the database
    after, _ = warehouse(["quarantine", "--reason", "bad_date"], home)
    assert after.returncode == 0, after.stderr
    assert "inspections/e.csv:5  bad_date (landing): field inspected_on" in after.stdout


def test_status_never_opens_the_database_under_the_lock(home):
    """A snapshot-less home (the first run is running): status still answers, says so."""
    held = HeldRefresh(home)
    try:
        status, took = warehouse(["status"], home)
    finally:
        held.stop()
    assert status.returncode == 0 and took < 2.0, (status.stderr, took)
    assert "REFRESH RUNNING" in status.stdout
    assert "ledger: not shown while this refresh runs" in status.stdout
