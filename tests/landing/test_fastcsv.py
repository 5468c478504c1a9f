"""The Arrow fast path gives exactly what the line-by-line reader gives."""

from __future__ import annotations

import duckdb
import pytest

import pipelines.landing.fastcsv as fastcsv
import pipelines.landing.read as read_module
from pipelines.landing import ensure_schema
from tests.landing.conftest import land, write

pytestmark = pytest.mark.unit

LANDED = (
    "SELECT * EXCLUDE (_first_seen_at, _exported_at, _mapping_version, _run_id) "
    "FROM landing.{} ORDER BY _source_path, _sheet, _line"
)
HELD = (
    "SELECT source_path, line_number, reason_code, message, raw_values FROM ops.quarantine "
    "ORDER BY source_path, line_number"
)
COUNTS = (
    "SELECT path, status, encoding, header_line, rows_read, rows_landed, rows_quarantined, "
    "lines_skipped, error_message FROM ops.file_ledger ORDER BY path"
)


def snapshot(raw, record_type: str, fast: bool, monkeypatch) -> tuple:
    monkeypatch.setattr(read_module, "FAST_CSV", fast)
    conn = duckdb.connect()
    ensure_schema(conn)
    land(conn, raw, record_type)
    result = tuple(
        conn.execute(sql).fetchall() for sql in (LANDED.format(record_type), HELD, COUNTS)
    )
    conn.close()
    return result


def compare(raw, record_type, monkeypatch) -> tuple:
    slow = snapshot(raw, record_type, False, monkeypatch)
    fast = snapshot(raw, record_type, True, monkeypatch)
    assert fast == slow
    return fast


MESSY = "\n".join(
    [
        "某派出所检查登记表,,,",
        "填报单位：古林派出所,,,,",
        "",
        "序号,检查编号,检查日期,派出所,发现隐患(处),督促整改,停业整改,,",
        *[
            f"{i},A{i},2022-07-{i % 28 + 1:02d},,{i % 4 + 2}处,{i % 3},否" + ",," * (i % 2)
            for i in range(60)
        ],
        ",,,,,,,,",
        "序号,检查编号,检查日期,派出所,发现隐患(处),督促整改,停业整改,,",
        "61,A61,2022-07-01,高桥所,1,1,否,,多余",
        "62,A62,2022-07-01",
        "   ",
        "合计,,,,99,99,,,",
        "注：本表由系统导出",
        "63,,2022-07-01,,1,1,否,,",
    ]
)


@pytest.mark.parametrize("block_size", [1 << 20, 256])
def test_fast_path_equals_line_by_line_reader(raw, monkeypatch, block_size):
    monkeypatch.setattr(fastcsv, "BLOCK_SIZE", block_size)
    write(raw, "inspections/a_20220731.csv", MESSY, "gbk")
    write(raw, "inspections/b_20220731.csv", MESSY.replace("古林", "江口"), "utf-8-sig")
    landed, held, counts = compare(raw, "inspections", monkeypatch)
    assert len(landed) == 2 * 60
    assert sorted(h[2] for h in held) == ["malformed_row"] * 4 + ["missing_key"] * 2
    # read 63 = 60 + A61 (extra cell) + A62 (short) + the row without id; skipped 8: three
    # above the header, the empty-cells line, the repeated header, spaces, total, footnote
    assert counts[0][4:8] == (63, 60, 3, 8)


def test_a_second_layout_falls_back_to_the_line_by_line_reader(raw, monkeypatch):
    write(
        raw,
        "inspections/a.csv",
        "\n".join(
            [
                "检查编号,检查日期,派出所,场所名称",
                "A1,2022-07-15,古林派出所,店1",
                "场所名称,记录编号,日期,单位",
                "店2,A2,2022-07-16,高桥派出所",
            ]
        )
        + "\n",
    )
    landed, _, counts = compare(raw, "inspections", monkeypatch)
    assert [(r[0], r[2], r[3]) for r in landed] == [
        ("A1", "古林派出所", "店1"),
        ("A2", "高桥派出所", "店2"),
    ]
    assert counts[0][4] == 2
