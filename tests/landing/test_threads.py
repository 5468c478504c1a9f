"""Record types landing concurrently (one cursor each) give exactly what landing them in turn
gives: the same rows, ledger and quarantine, and the same duplicate decisions across folders."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_corpus
from pipelines.landing import ensure_schema, land_record_types
from pipelines.landing import land as land_module
from pipelines.landing.drop_zone import Entry
from pipelines.landing.plan import Step
from tests.landing.conftest import NO_SETTLE, write

pytestmark = pytest.mark.unit

TYPES = ("inspections", "disputes", "traffic")


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for table in (*[f"landing.{t}" for t in TYPES], "ops.file_ledger", "ops.quarantine"):
        out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    return out


def test_concurrent_landing_equals_landing_in_turn(tmp_path, monkeypatch):
    # one clock for both runs, so that even the landing timestamps must agree
    monkeypatch.setattr(land_module, "utcnow", lambda: datetime(2024, 1, 2, 3, 4, 5))
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=4, days=5, seed=11)
    # byte-identical files in two folders: the first in type order is the original; a copy of
    # a file that failed is no duplicate (nothing of it counts): it fails on its own
    original = sorted((raw / "traffic").rglob("*.csv"))[0]
    shutil.copyfile(original, raw / "traffic/zz_copy.csv")
    original = original.relative_to(raw).as_posix()
    write(raw, "inspections/zz_blank.csv", "检查编号\n")
    shutil.copyfile(raw / "inspections/zz_blank.csv", raw / "traffic/zz_blank.csv")
    landed = {}
    for threads, read_ahead in ((1, False), (3, False), (2, True)):
        # read_ahead: worker processes read the files, one thread lands them (prefetch.py)
        limit = 0 if read_ahead else 1 << 60
        conn = duckdb.connect(str(tmp_path / f"w{threads}.duckdb"))
        ensure_schema(conn)
        results = land_record_types(
            conn, raw, TYPES, "run-1", threads=threads, limits=NO_SETTLE, workers_min_bytes=limit
        )
        assert bool(sum(r.files_read_ahead for r in results.values())) == read_ahead
        for r in results.values():
            assert r.rows_read == r.rows_landed + r.rows_quarantined
        assert sum(r.files_loaded for r in results.values()) > 20
        found = dict(
            conn.execute(
                "SELECT path, status || ' ' || "
                "coalesce(json_extract_string(detail, '$.duplicate_of'), '') "
                "FROM ops.file_ledger WHERE path LIKE '%zz_%' OR path = ?",
                [original],
            ).fetchall()
        )
        # zz_copy.csv sorts before the original's Chinese name: it lands, the original is its
        # duplicate
        assert found == {
            "inspections/zz_blank.csv": "failed ",
            "traffic/zz_blank.csv": "failed ",
            "traffic/zz_copy.csv": "loaded ",
            original: "duplicate traffic/zz_copy.csv",
        }
        landed[threads] = (
            snapshot(conn),
            {
                t: (
                    r.rows_read,
                    r.rows_landed,
                    r.rows_quarantined,
                    r.files_loaded,
                    r.files_failed,
                    r.failures,
                )
                for t, r in results.items()
            },
        )
        again = land_record_types(
            conn, raw, TYPES, "run-2", threads=threads, limits=NO_SETTLE, workers_min_bytes=limit
        )
        assert all(r.files_loaded + r.files_failed + r.files_duplicate == 0 for r in again.values())
        conn.close()
    assert landed[1] == landed[3] == landed[2]


def test_a_reader_process_that_dies_leaves_its_files_to_the_landing_thread(tmp_path, monkeypatch):
    """A worker killed while reading (here: exiting on one file) breaks the pool; the files not
    yet taken are read in process, and the landing equals one without workers."""
    from pipelines.landing import prefetch

    monkeypatch.setattr(land_module, "utcnow", lambda: datetime(2024, 1, 2, 3, 4, 5))
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=3, days=4, seed=7)
    victim = sorted((raw / "disputes").rglob("*.csv"))[2].relative_to(raw).as_posix()
    landing_pid = os.getpid()
    real = prefetch.read_step

    def dies_in_a_worker(step, row, mapping, limits, fast=True):
        if step.rel == victim and os.getpid() != landing_pid:
            os._exit(3)
        return real(step, row, mapping, limits, fast)

    monkeypatch.setattr(prefetch, "read_step", dies_in_a_worker)
    landed = {}
    for name, threads, limit in (("alone", 1, 1 << 60), ("workers", 2, 0)):
        conn = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        ensure_schema(conn)
        results = land_record_types(
            conn, raw, TYPES, "run-1", threads=threads, limits=NO_SETTLE, workers_min_bytes=limit
        )
        assert sum(r.files_loaded for r in results.values()) > 20
        landed[name] = snapshot(conn)
        conn.close()
    assert landed["workers"] == landed["alone"]


def _step(kind: str, rel: str, size: int) -> Step:
    entry = Entry(rel, Path(rel), rel.split("/")[0], size, 0)
    return Step(kind, entry, sha256=rel)


def test_shards_split_the_biggest_type_and_keep_every_step_in_order():
    plans = {
        "inspections": [_step("land", f"inspections/{i}.csv", 10) for i in range(30)],
        "disputes": [],
        "traffic": [_step("land", f"traffic/{i}.csv", 1000) for i in range(40)]
        + [_step("unchanged", "traffic/old.csv", 0)],
    }
    units = land_module._shards(plans, threads=2)
    by_type = {t: [s for rt, steps in units if rt == t for s in steps] for t in plans}
    assert by_type == plans  # nothing lost, nothing repeated, plan order kept
    traffic_units = [steps for rt, steps in units if rt == "traffic"]
    # 40,300 bytes over 2 threads x SHARDS_PER_THREAD shards: traffic is cut, the small type not
    assert len(traffic_units) >= 2 * land_module.SHARDS_PER_THREAD - 1
    assert [rt for rt, _ in units].count("inspections") == 1
    assert all(steps for _, steps in units)
