"""Versions of a path (issue: nothing lost, nothing leaked): a path's latest content wins, a
revert counts again, duplicates only of committed loaded versions, failures never replace the
last good content, and what cannot be read now is tried again."""

from __future__ import annotations

import builtins
import json
import os

import pytest

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

V1 = INSPECTION_HEADER + "\nA1,2022-07-15,古林派出所,店1,小商店,1,1,0,否\n"
V2 = INSPECTION_HEADER + "\nA1,2022-07-15,古林派出所,店1,小商店,3,1,0,否\n"  # corrected


def counting(conn) -> list[tuple]:
    """Landed rows that count: those of loaded versions."""
    return rows(
        conn,
        "SELECT l._source_path, l.inspection_id, l.hazards_found "
        "FROM landing.inspections l JOIN ops.file_ledger v "
        "ON v.path = l._source_path AND v.sha256 = l._file_sha256 "
        "AND v.status = 'loaded' ORDER BY 1, 2",
    )


def status(conn) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in ledger(conn):
        found.setdefault(row["path"], []).append(row["status"])
    return found


def test_a_corrected_upload_under_the_same_name_replaces_the_earlier_content(conn, raw):
    path = write(raw, "inspections/x_20220716.csv", V1)
    land(conn, raw, run_id="r1")
    path.write_text(V2, encoding="utf-8")
    result = land(conn, raw, run_id="r2")
    assert result.files_loaded == 1
    assert counting(conn) == [("inspections/x_20220716.csv", "A1", 3)]
    old, new = sorted(ledger(conn), key=lambda r: r["current_since"])
    assert (old["status"], old["superseded_by"]) == ("superseded", new["file_version_id"])
    assert new["status"] == "loaded" and new["superseded_by"] is None
    assert_conservation(conn)


def test_a_revert_to_earlier_bytes_counts_those_bytes_again(conn, raw):
    path = write(raw, "inspections/x_20220716.csv", V1)
    land(conn, raw, run_id="r1")
    path.write_text(V2, encoding="utf-8")
    land(conn, raw, run_id="r2")
    path.write_text(V1, encoding="utf-8")
    result = land(conn, raw, run_id="r3")
    assert (result.files_reverted, result.files_loaded) == (1, 0)
    assert counting(conn) == [("inspections/x_20220716.csv", "A1", 1)]
    assert sorted(r["status"] for r in ledger(conn)) == ["loaded", "superseded"]
    # the revert is remembered: the next run changes nothing
    again = land(conn, raw, run_id="r4")
    assert (again.files_unchanged, again.files_reverted) == (1, 0)


def test_a_copy_is_a_duplicate_only_while_its_original_counts(conn, raw):
    original = write(raw, "inspections/a/x.csv", V1)
    write(raw, "inspections/b/x.csv", V1)
    land(conn, raw, run_id="r1")
    assert status(conn) == {"inspections/a/x.csv": ["loaded"], "inspections/b/x.csv": ["duplicate"]}
    # the original path now holds other bytes: the copy's bytes are on disk only at b/
    original.write_text(V2, encoding="utf-8")
    land(conn, raw, run_id="r2")
    assert counting(conn) == [("inspections/a/x.csv", "A1", 3), ("inspections/b/x.csv", "A1", 1)]
    assert status(conn)["inspections/b/x.csv"] == ["loaded"]
    assert_conservation(conn)


def test_a_copy_of_a_file_that_failed_is_no_duplicate(conn, raw):
    write(raw, "inspections/a.csv", "no,header,here\n1,2,3\n")
    write(raw, "inspections/b.csv", "no,header,here\n1,2,3\n")
    result = land(conn, raw)
    assert (result.files_failed, result.files_duplicate) == (2, 0)


def test_a_broken_new_version_keeps_the_last_good_content_counting(conn, raw):
    path = write(raw, "inspections/x.csv", V1)
    land(conn, raw, run_id="r1")
    path.write_bytes(b"")  # a re-upload that broke
    result = land(conn, raw, run_id="r2")
    assert result.files_failed == 1
    assert counting(conn) == [("inspections/x.csv", "A1", 1)]
    assert sorted(r["status"] for r in ledger(conn)) == ["failed", "loaded"]
    # not read again while its bytes stay the same
    assert land(conn, raw, run_id="r3").files_unchanged == 1
    # fixed by the next upload: the failure is marked fixed, its file_failed row leaves
    path.write_text(V2, encoding="utf-8")
    land(conn, raw, run_id="r4")
    failed = next(r for r in ledger(conn) if r["status"] == "failed")
    assert failed["superseded_by"] is not None
    assert [q for q in quarantine(conn) if q["reason_code"] == "file_failed"] == []
    assert counting(conn) == [("inspections/x.csv", "A1", 3)]


def test_an_unreadable_file_is_recorded_and_tried_again_every_run(conn, raw, monkeypatch):
    path = write(raw, "inspections/x.csv", V1)
    real_open = builtins.open

    def no_permission(file, *args, **kwargs):  # chmod 000 does not stop root (CI)
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_permission)
    first = land(conn, raw, run_id="r1")
    second = land(conn, raw, run_id="r2")
    monkeypatch.setattr(builtins, "open", real_open)
    assert first.files_failed == second.files_failed == first.files_retry == 1
    (row,) = ledger(conn)
    assert row["status"] == "failed" and row["retry"] and "cannot read" in row["error_message"]
    assert land(conn, raw, run_id="r3").files_loaded == 1


def test_files_outside_the_type_folders_and_hidden_files_are_accounted_for(conn, raw):
    from pipelines.landing import land_record_types
    from tests.landing.conftest import NO_SETTLE

    write(raw, "inspections/x.csv", V1)
    write(raw, "inspections/.~lock.x.csv#", "locked")
    write(raw, "uploads/stray.csv", V1)
    write(raw, "README.md", "notes")  # beside the folders: not an export
    results = land_record_types(
        conn, raw, ("inspections", "disputes", "traffic"), "r1", limits=NO_SETTLE
    )
    found = {r["path"]: (r["status"], r["error_message"]) for r in ledger(conn)}
    assert found["inspections/x.csv"][0] == "loaded"
    assert found["inspections/.~lock.x.csv#"][0] == "ignored"
    assert found["uploads/stray.csv"][0] == "failed"
    assert "not in a record-type folder" in found["uploads/stray.csv"][1]
    assert "README.md" not in found
    assert results["unsorted"].files_failed == 1
    assert results["inspections"].files_ignored == 1


def test_a_name_that_is_not_utf8_is_kept_escaped_and_lands(conn, raw):
    folder = raw / "inspections"
    folder.mkdir()
    name = os.fsdecode("三路里所_检查.csv".encode("gbk"))  # unpacked from a Windows zip
    (folder / name).write_text(V1, encoding="utf-8")
    result = land(conn, raw)
    assert result.files_loaded == 1
    (row,) = ledger(conn)
    # stored and shown escaped: one printable line, every undecodable byte as \xNN
    assert row["path"].startswith("inspections/\\xc8\\xfd") and row["path"].isprintable()
    assert row["path"].encode("utf-8")
    assert json.loads(row["detail"])["name"] == (
        "not valid UTF-8; as GBK it reads '三路里所_检查.csv'"
    )
    assert rows(conn, "SELECT count(*) FROM landing.inspections") == [(1,)]
