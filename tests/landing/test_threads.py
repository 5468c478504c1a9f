"""Record types landing concurrently (one cursor each) give exactly what landing them in turn
gives: the same rows, ledger and quarantine, and the same duplicate decisions across folders."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb

from pipelines.generate import generate_corpus
from pipelines.landing import ensure_schema, land_record_types
from pipelines.landing import land as land_module
from tests.landing.conftest import write

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
    # byte-identical files in two folders: the first in type order is the original
    write(raw, "inspections/zz_blank.csv", "检查编号\n")
    shutil.copyfile(raw / "inspections/zz_blank.csv", raw / "traffic/zz_blank.csv")
    landed = {}
    for threads in (1, 3):
        conn = duckdb.connect(str(tmp_path / f"w{threads}.duckdb"))
        ensure_schema(conn)
        results = land_record_types(conn, raw, TYPES, "run-1", threads=threads)
        for r in results.values():
            assert r.rows_read == r.rows_landed + r.rows_quarantined
        assert sum(r.files_loaded for r in results.values()) > 20
        status, detail = conn.execute(
            "SELECT status, json_extract_string(detail, '$.duplicate_of') FROM ops.file_ledger "
            "WHERE path = 'traffic/zz_blank.csv'").fetchall()[0]
        assert (status, detail) == ("duplicate", "inspections/zz_blank.csv")
        landed[threads] = (snapshot(conn), {t: (r.rows_read, r.rows_landed, r.rows_quarantined,
                                                r.files_loaded, r.files_failed, r.failures)
                                            for t, r in results.items()})
        again = land_record_types(conn, raw, TYPES, "run-2", threads=threads)
        assert all(r.files_loaded + r.files_failed + r.files_duplicate == 0
                   for r in again.values())
        conn.close()
    assert landed[1] == landed[3]
