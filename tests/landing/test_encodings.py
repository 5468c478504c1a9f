"""Encoding detection: UTF-8, BOM, GBK, GB18030; undecodable and binary files fail alone."""

from __future__ import annotations

import pytest

from pipelines.landing.decode import FileFailed, detect_encoding, fingerprint
from tests.landing.conftest import INSPECTION_HEADER, land, ledger, quarantine, rows, write

pytestmark = pytest.mark.unit

# U+20000 exists in GB18030 (4-byte sequence) but not in GBK
GB18030_ONLY = "\U00020000"
BODY = INSPECTION_HEADER + "\nA1,2022-07-15,古林派出所,小店{},小商店,1,1,0,否\n"


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gbk"),
        ("gb18030", "gbk"),
    ],
)
def test_common_encodings_land_intact(conn, raw, encoding, detected):
    write(raw, "inspections/a.csv", BODY.format("甲"), encoding)
    result = land(conn, raw)
    assert result.files_loaded == 1, result.failures
    assert rows(conn, "SELECT venue_name, station FROM landing.inspections") == [
        ("小店甲", "古林派出所")
    ]
    assert ledger(conn)[0]["encoding"] == detected


def test_gb18030_only_characters_are_detected(conn, raw):
    path = write(raw, "inspections/a.csv", BODY.format(GB18030_ONLY), "gb18030")
    assert detect_encoding(path.read_bytes(), fingerprint(path.read_bytes())) == "gb18030"
    land(conn, raw)
    assert rows(conn, "SELECT venue_name FROM landing.inspections") == [(f"小店{GB18030_ONLY}",)]


def test_bom_does_not_hide_the_first_header(conn, raw):
    write(raw, "inspections/a.csv", BODY.format("甲"), "utf-8-sig")
    land(conn, raw)
    assert rows(conn, "SELECT inspection_id FROM landing.inspections") == [("A1",)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02binary\x00" * 10, "binary content"),
        (
            "检查编号,检查日期,场所名称\nA1,2022-07-15,café\n".encode("latin-1", "replace")
            + b"\xe9,\xff\xfe,\x80\n",
            "undecodable",
        ),
        (b"PK\x03\x04 not really a zip", "not a readable xlsx"),
    ],
)
def test_unreadable_files_fail_with_a_reason(conn, raw, content, reason):
    write(raw, "inspections/bad.csv", content)
    write(raw, "inspections/good.csv", BODY.format("甲"))
    result = land(conn, raw)
    assert result.files_failed == 1 and result.files_loaded == 1
    ((path, message),) = result.failures
    assert path == "inspections/bad.csv" and reason in message
    failed = [r for r in ledger(conn) if r["status"] == "failed"]
    assert len(failed) == 1 and reason in failed[0]["error_message"]
    assert (failed[0]["rows_read"], failed[0]["rows_landed"], failed[0]["rows_quarantined"]) == (
        0,
        0,
        0,
    )
    held = quarantine(conn)
    assert [(q["reason_code"], q["line_number"]) for q in held] == [("file_failed", None)]
    assert "inspections/bad.csv" in held[0]["message"]


def test_mojibake_never_lands(conn, raw):
    """UTF-8 text read as GBK would be mojibake; a GBK file whose header is not recognisable
    once decoded (here: Big5 bytes that happen to be valid GBK) fails on the header guard."""
    traditional = "檢查編號,檢查日期,派出所,場所名稱,發現隱患\nA1,2022-07-15,古林派出所,小店,1\n"
    write(raw, "inspections/big5.csv", traditional, "big5")
    result = land(conn, raw)
    assert result.files_loaded == 0 and result.files_failed == 1
    assert (
        "no recognisable header" in result.failures[0][1] or "undecodable" in result.failures[0][1]
    )
    assert rows(conn, "SELECT count(*) FROM landing.inspections") == [(0,)]


def test_detect_rejects_truncated_multibyte_utf8_as_gbk_or_fails(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("检查编号\n".encode() + "派".encode()[:2])
    with pytest.raises(FileFailed):
        detect_encoding(path.read_bytes(), fingerprint(path.read_bytes()))
