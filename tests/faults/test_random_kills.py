"""kill -9 of the whole `warehouse run` (CLI, dbt child) at random moments, three times in a
row on one warehouse, then a run to the end: it publishes exactly the generator's truth and
every file version is in the ledger once (issue: crash-safe ledger; the commit-by-commit sweep
of landing is test_landing_crash.py). Two landing threads, duplicates and failed files in the
corpus; the moments are drawn from a seeded generator, so a failure reproduces."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import load_truth, make_warehouse
from tests.e2e.test_ground_truth import FACTS, assert_marts_equal_truth

pytestmark = pytest.mark.e2e
WAREHOUSE = Path(sys.executable).with_name("warehouse")


def run_and_kill(wh, after_s: float) -> int | None:
    proc = subprocess.Popen(
        [str(WAREHOUSE), "run"],
        env={**os.environ, **wh.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=after_s)
        return proc.returncode  # finished before the moment came
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return None


def test_kills_at_random_moments_then_a_whole_run_publish_exactly_the_truth(tmp_path):
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=3, days=4, seed=21)
    truth = load_truth(raw)
    wh = make_warehouse(tmp_path, raw, WAREHOUSE_LANDING_THREADS="2")
    rng = random.Random(2026)
    started = time.monotonic()
    for _ in range(3):
        run_and_kill(wh, rng.uniform(2.0, 14.0))
    assert time.monotonic() - started < 120
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    assert_marts_equal_truth(wh, truth)
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type], table
    versions = wh.working(
        "SELECT path, sha256, count(*) FROM ops.file_ledger GROUP BY ALL HAVING count(*) > 1"
    )
    assert versions == []
    loaded = wh.working("SELECT count(*) FROM ops.file_ledger WHERE status = 'loaded'")[0][0]
    files = sum(
        v["files"] - v["files_failed"] - v["files_duplicate"] for v in truth["landing"].values()
    )
    assert loaded == files
