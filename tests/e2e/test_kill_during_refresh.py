"""Kill -9 during a refresh, then run again: the rerun publishes exactly what an uninterrupted
run would (the generator's truth), and nothing partial was ever referenced (issue: publish).

Readers during the kill are covered where the publish happens (tests/publish); this test kills
the whole `warehouse run` process group (the CLI and its dbt child) in the middle of dbt, the
stage that writes most: right after the first resolved-record table (int_disputes) is rebuilt,
so the other int_ tables, and so the facts (views over them) and every mart, are stale when the
process dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import load_truth, make_warehouse
from tests.e2e.test_ground_truth import assert_marts_equal_truth

pytestmark = pytest.mark.e2e
WAREHOUSE = Path(sys.executable).with_name("warehouse")


def _start_and_kill_during(wh, marker: str, after_s: float, timeout_s: float = 240) -> list[str]:
    """Start `warehouse run --verbose` (dbt's log lines reach stdout only with --verbose), wait
    for a log line containing marker, then SIGKILL the group."""
    proc = subprocess.Popen(
        [str(WAREHOUSE), "run", "--verbose"],
        env={**os.environ, **wh.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    seen = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert seen.wait(timeout_s), "never reached " + marker + ":\n" + "".join(lines[-30:])
        time.sleep(after_s)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return lines


def test_kill_9_during_dbt_then_rerun_publishes_the_uninterrupted_result(tmp_path):
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=3, days=3, seed=5)
    truth = load_truth(raw)
    wh = make_warehouse(tmp_path, raw)

    _start_and_kill_during(
        wh, "OK created sql incremental model intermediate.int_disputes", after_s=0
    )
    published = wh.home / "published"
    # nothing was published by the killed run, and nothing half-written is referenced
    assert not (published / "latest.json").exists()
    assert not (published / "catalog.duckdb").exists()

    result, summary, ok = wh.run()
    assert result.success and ok, summary
    assert_marts_equal_truth(wh, truth)
    for record_type, table in (
        ("inspections", "fct_inspections"),
        ("disputes", "fct_disputes"),
        ("traffic", "fct_traffic_violations"),
    ):
        assert len(wh.published(table)) == truth["facts"][record_type], table
    # every file was landed exactly once across the two runs
    ledger = wh.working(
        "SELECT path, count(*) FROM ops.file_ledger GROUP BY path HAVING count(*) > 1"
    )
    assert ledger == []
    latest = json.loads((published / "latest.json").read_text())
    snapshots = sorted(p.name for p in (published / "snapshots").iterdir())
    assert snapshots == [latest["version"]]
