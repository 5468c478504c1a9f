"""ops.file_ledger: dedupe, versions, idempotent reruns, broken files failing alone."""

from __future__ import annotations

import json

import duckdb
import pytest

import pipelines.landing.land as land_module
import pipelines.landing.readers as readers
from tests.landing.conftest import (
    INSPECTION_HEADER,
    assert_conservation,
    land,
    ledger,
    quarantine,
    rows,
    write,
)

pytestmark = pytest.mark.unit

BODY = INSPECTION_HEADER + "\nA1,2022-07-15,古林派出所,店1,小商店,1,1,0,否\n"


def test_byte_identical_copy_is_a_duplicate_at_any_path(conn, raw):
    write(raw, "inspections/a/x.csv", BODY)
    write(raw, "inspections/b/copy.csv", BODY)
    write(raw, "inspections/c/gbk.csv", BODY, "gbk")  # same text, other bytes: not a duplicate
    result = land(conn, raw)
    assert (result.files_loaded, result.files_duplicate) == (2, 1)
    status = {r["path"]: r["status"] for r in ledger(conn)}
    assert status == {
        "inspections/a/x.csv": "loaded",
        "inspections/b/copy.csv": "duplicate",
        "inspections/c/gbk.csv": "loaded",
    }
    dup = next(r for r in ledger(conn) if r["status"] == "duplicate")
    assert json.loads(dup["detail"])["duplicate_of"] == "inspections/a/x.csv"
    assert (dup["rows_read"], dup["rows_landed"], dup["rows_quarantined"]) == (0, 0, 0)
    assert rows(conn, "SELECT count(*) FROM landing.inspections") == [(2,)]


def test_rerun_on_unchanged_raw_dir_lands_nothing(conn, raw):
    write(raw, "inspections/x.csv", BODY)
    write(raw, "inspections/copy.csv", BODY)
    write(raw, "inspections/broken.csv", b"\x00\x00")
    land(conn, raw, run_id="r1")
    before = (
        len(ledger(conn)),
        len(quarantine(conn)),
        rows(conn, "SELECT count(*) FROM landing.inspections"),
    )
    result = land(conn, raw, run_id="r2")
    assert (
        result.files_loaded,
        result.files_failed,
        result.files_duplicate,
        result.files_unchanged,
    ) == (0, 0, 0, 3)
    assert (
        len(ledger(conn)),
        len(quarantine(conn)),
        rows(conn, "SELECT count(*) FROM landing.inspections"),
    ) == before
    assert rows(conn, "SELECT count(*) FROM ops.file_ledger WHERE run_id = 'r2'") == [(0,)]


def test_changed_file_at_same_path_lands_as_new_version(conn, raw):
    path = write(raw, "inspections/x.csv", BODY)
    land(conn, raw, run_id="r1")
    path.write_text(BODY + "A2,2022-07-16,古林派出所,店2,小商店,0,0,0,否\n", encoding="utf-8")
    result = land(conn, raw, run_id="r2")
    assert result.files_loaded == 1 and result.rows_landed == 2
    versions = ledger(conn)
    assert [(v["path"], v["run_id"], v["rows_landed"]) for v in versions] == [
        ("inspections/x.csv", "r1", 1),
        ("inspections/x.csv", "r2", 2),
    ]
    assert versions[0]["sha256"] != versions[1]["sha256"]
    assert versions[0]["file_version_id"] != versions[1]["file_version_id"]
    # both versions stay in landing; dbt keeps the latest per key
    assert rows(
        conn, "SELECT inspection_id, count(*) FROM landing.inspections GROUP BY 1 ORDER BY 1"
    ) == [("A1", 2), ("A2", 1)]


def test_broken_files_fail_alone(conn, raw):
    write(raw, "inspections/1_good.csv", BODY)
    write(raw, "inspections/2_empty.csv", b"")
    write(raw, "inspections/3_noheader.csv", "just,some,text\n1,2,3\n")
    write(raw, "inspections/4_binary.xlsx", b"PK\x03\x04\x00garbage")
    write(raw, "inspections/5_good.csv", BODY.replace("A1", "A5"))
    result = land(conn, raw)
    assert (result.files_loaded, result.files_failed) == (2, 3)
    assert sorted(p for p, _ in result.failures) == [
        "inspections/2_empty.csv",
        "inspections/3_noheader.csv",
        "inspections/4_binary.xlsx",
    ]
    assert rows(conn, "SELECT inspection_id FROM landing.inspections ORDER BY 1") == [
        ("A1",),
        ("A5",),
    ]
    held = quarantine(conn)
    assert sorted(q["source_path"] for q in held if q["reason_code"] == "file_failed") == [
        "inspections/2_empty.csv",
        "inspections/3_noheader.csv",
        "inspections/4_binary.xlsx",
    ]
    meta = result.as_metadata()
    assert meta["files_failed"] == 3 and "2_empty.csv" in meta["failed_files"]
    assert all(
        isinstance(meta[k], int)
        for k in (
            "files_loaded",
            "files_failed",
            "files_duplicate",
            "rows_read",
            "rows_landed",
            "rows_quarantined",
            "lines_skipped",
        )
    )
    assert_conservation(conn)


def test_a_file_failing_after_a_partial_flush_never_half_loads(conn, raw, monkeypatch):
    monkeypatch.setattr(land_module, "FLUSH_ROWS", 3)
    monkeypatch.setattr(readers, "BATCH_ROWS", 3)
    calls = []
    real = land_module.type_and_land

    def failing_fourth(c, stager):
        calls.append(stager.rows)
        if len(calls) == 4:  # big.csv has streamed three chunks into its own transaction
            raise duckdb.ConversionException("injected failure in the fourth chunk")
        return real(c, stager)

    monkeypatch.setattr(land_module, "type_and_land", failing_fourth)
    # quoted cells: the line-by-line reader, which hands over chunks of BATCH_ROWS rows
    lines = [f'B{i},2022-07-15,古林派出所,"店",小商店,1,1,0,否' for i in range(11)]
    write(raw, "inspections/big.csv", INSPECTION_HEADER + "\n" + "\n".join(lines) + "\n")
    write(raw, "inspections/small.csv", BODY)
    result = land(conn, raw)
    assert (result.files_loaded, result.files_failed) == (1, 1)
    assert "big.csv" in result.failures[0][0] and "injected" in result.failures[0][1]
    assert calls[:3] == [3, 3, 3]  # rows of big.csv did reach DuckDB before the failure
    assert rows(
        conn, "SELECT count(*) FROM landing.inspections WHERE _source_path = 'inspections/big.csv'"
    ) == [(0,)]
    assert rows(
        conn,
        "SELECT count(*) FROM ops.quarantine WHERE source_path = "
        "'inspections/big.csv' AND reason_code <> 'file_failed'",
    ) == [(0,)]
    assert_conservation(conn)


def test_many_small_files_batched_together_keep_their_own_counts(conn, raw, monkeypatch):
    monkeypatch.setattr(land_module, "FLUSH_ROWS", 7)
    for i in range(6):
        bad = "\n,2022-07-15,古林派出所,店,小商店,1,1,0,否" if i % 2 else ""
        write(
            raw,
            f"inspections/f{i}.csv",
            BODY.replace("A1", f"A{i}") + f"B{i},2022-07-16,古林派出所,店,小商店,0,0,0,否" + bad,
        )
    result = land(conn, raw)
    assert (result.files_loaded, result.rows_read, result.rows_quarantined) == (6, 15, 3)
    assert [r["rows_quarantined"] for r in ledger(conn)] == [0, 1, 0, 1, 0, 1]
    assert_conservation(conn)
