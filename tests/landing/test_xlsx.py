"""Excel exports: every sheet, title rows with merged cells, notes sheet, real date cells."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from tests.landing.conftest import assert_conservation, land, ledger, rows, write_xlsx

pytestmark = pytest.mark.unit

HEADER = ["序号", "检查编号", "检查日期", "场所名称", "发现隐患(处)", "督促整改"]


def test_workbook_with_titles_merged_cells_dates_and_notes_sheet(conn, raw):
    write_xlsx(
        raw,
        "inspections/高桥派出所/2022-07/report_20220731.xlsx",
        {
            "七月": [
                ["高桥派出所百日行动检查登记表"],  # merged A1:F1
                ["填报单位:", "海曙分局高桥派出所"],  # value in the next cell
                [],
                HEADER,
                [1, "X1", None, "店1", 2, 1],  # real date cell (below)
                [2, "X2", 44758, "店2", 3.0, 0],  # Excel serial and float count
                [3, "X3", "2022年7月17日", "店3", None, None],
                ["合计", None, None, None, 5, 1],
            ],
            "说明": [["本表说明"], ["数据来源: 系统导出"]],  # notes sheet: no header
            "八月": [
                ["填报日期: 2022-08-31"],
                HEADER,
                [1, "X4", datetime(2022, 8, 2, 9, 30), "店4", 0, 0],
            ],
        },
        merge_title=True,
        date_cells={("七月", 4, 2): datetime(2022, 7, 15)},
    )
    result = land(conn, raw)
    assert result.files_loaded == 1, result.failures
    got = rows(
        conn,
        "SELECT inspection_id, inspected_on, station, _station_source, hazards_found,"
        " _sheet, _line, _exported_at FROM landing.inspections ORDER BY 1",
    )
    assert got == [
        (
            "X1",
            date(2022, 7, 15),
            "海曙分局高桥派出所",
            "title",
            2,
            "七月",
            5,
            datetime(2022, 7, 31),
        ),
        (
            "X2",
            date(2022, 7, 16),
            "海曙分局高桥派出所",
            "title",
            3,
            "七月",
            6,
            datetime(2022, 7, 31),
        ),
        (
            "X3",
            date(2022, 7, 17),
            "海曙分局高桥派出所",
            "title",
            0,
            "七月",
            7,
            datetime(2022, 7, 31),
        ),
        # no 填报单位 in this sheet: the folder names the station; its own 填报日期 wins
        ("X4", date(2022, 8, 2), "高桥派出所", "path", 0, "八月", 3, datetime(2022, 8, 31)),
    ]
    (entry,) = ledger(conn)
    assert entry["encoding"] == "xlsx"
    assert json.loads(entry["sheets"]) == ["七月", "八月"]
    assert entry["header_line"] == 4
    assert (entry["rows_read"], entry["lines_skipped"]) == (4, 5)  # 3 title/blank + total + 1
    notes = {s["sheet"]: s for s in json.loads(entry["detail"])["sheets"]}
    assert notes["说明"]["status"] == "skipped"
    assert "no recognisable header" in notes["说明"]["note"]
    extra = rows(conn, "SELECT _extra FROM landing.inspections WHERE inspection_id = 'X1'")[0][0]
    assert json.loads(extra) == {"序号": "1"}
    assert_conservation(conn)


def test_workbook_without_any_header_fails(conn, raw):
    write_xlsx(raw, "inspections/notes.xlsx", {"说明": [["只有说明"]], "Sheet2": [[1, 2, 3]]})
    result = land(conn, raw)
    assert result.files_failed == 1
    assert "no recognisable header in any sheet" in result.failures[0][1]


def test_table_not_starting_at_a1_keeps_rows_and_columns(conn, raw):
    """Empty leading rows and an empty column A: line numbers are the sheet's rows and cells
    stay under their headers (calamine starts a sheet at its first used column)."""
    write_xlsx(
        raw,
        "inspections/高桥派出所/offset_20220731.xlsx",
        {
            "Sheet1": [
                [],
                [],
                [None, *HEADER],
                [None, 1, "X9", "2022-07-01", "店9", 1, 1],
                [None, 2, "X10", "2022-07-02", "店10", "x", 0],
            ]
        },
    )
    result = land(conn, raw)
    assert (result.rows_landed, result.rows_quarantined) == (1, 1), result.failures
    assert rows(
        conn, "SELECT inspection_id, inspected_on, hazards_found, _line FROM landing.inspections"
    ) == [("X9", date(2022, 7, 1), 1, 4)]
    ((line, code, raw_values),) = rows(
        conn, "SELECT line_number, reason_code, raw_values FROM ops.quarantine"
    )
    assert (line, code) == (5, "bad_count")
    assert json.loads(raw_values)["发现隐患(处)"] == "x"
    entry = ledger(conn)[0]
    assert entry["header_line"] == 3
    # column A is there, empty, as in the sheet (and as openpyxl read it)
    segment = json.loads(entry["detail"])["sheets"][0]["segments"][0]
    assert segment["headers"] == ["col_1", *HEADER]
