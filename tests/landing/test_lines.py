"""Line classification and the station / export-time fallbacks."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pipelines.landing.read import station_from_path
from tests.landing.conftest import INSPECTION_HEADER, land, ledger, quarantine, rows, write

pytestmark = pytest.mark.unit


def test_titles_blanks_totals_and_repeated_headers_are_skipped(conn, raw):
    write(
        raw,
        "inspections/a.csv",
        "\n".join(
            [
                "XX派出所百日行动检查登记表,,,",  # 1 title
                "填报单位:古林派出所   填报日期:2022年7月20日",  # 2 title
                ",,,",  # 3 blank (empty cells)
                INSPECTION_HEADER,  # 4 header
                "A1,2022-07-15,,店1,小商店,1,1,0,否",  # 5
                "",  # 6 blank
                "   ,  ,\u3000",  # 7 blank (spaces only)
                INSPECTION_HEADER,  # 8 repeated header
                "A2,2022-07-16,,店2,小商店,0,0,0,否",  # 9
                "小计,,,,,1,1,0,",  # 10 totals
                ",合 计,,,,1,1,0,",  # 11 totals in the second cell, spaced
                "总计：,,,,,1,1,0,",  # 12 totals with a full-width colon
                "制表人: 张三",  # 13 footer
                "注：本表数据截至7月20日",  # 14 footnote
            ]
        )
        + "\n",
    )
    land(conn, raw)
    (entry,) = ledger(conn)
    assert (entry["rows_read"], entry["rows_landed"], entry["lines_skipped"]) == (2, 2, 11)
    assert rows(conn, "SELECT inspection_id, _line FROM landing.inspections ORDER BY 1") == [
        ("A1", 5),
        ("A2", 9),
    ]


def test_a_venue_starting_like_a_marker_is_data(conn, raw):
    write(
        raw,
        "inspections/a.csv",
        "场所名称,检查编号,检查日期,派出所\n小计算机店,A1,2022-07-15,古林派出所\n",
    )
    land(conn, raw)
    assert rows(conn, "SELECT venue_name FROM landing.inspections") == [("小计算机店",)]


def test_a_new_header_mid_file_switches_the_column_layout(conn, raw):
    write(
        raw,
        "inspections/a.csv",
        "\n".join(
            [
                "检查编号,检查日期,派出所,场所名称",
                "A1,2022-07-15,古林派出所,店1",
                "场所名称,记录编号,日期,单位",  # another platform's layout appended
                "店2,A2,2022-07-16,高桥派出所",
            ]
        )
        + "\n",
    )
    land(conn, raw)
    assert rows(
        conn, "SELECT inspection_id, station, venue_name FROM landing.inspections ORDER BY 1"
    ) == [("A1", "古林派出所", "店1"), ("A2", "高桥派出所", "店2")]
    assert ledger(conn)[0]["lines_skipped"] == 1


def test_unknown_columns_are_kept_in_extra(conn, raw):
    write(
        raw,
        "inspections/a.csv",
        "序号,检查编号,检查日期,派出所,巡查组,\n1,B1,2022-07-15,古林,第一组,\n",
    )
    land(conn, raw)
    (extra,) = rows(conn, "SELECT _extra FROM landing.inspections")[0]
    assert json.loads(extra) == {"序号": "1", "巡查组": "第一组"}


def test_no_header_at_all_fails_the_file(conn, raw):
    write(raw, "inspections/a.csv", "名称,数量\n甲,1\n乙,2\n")
    result = land(conn, raw)
    assert result.files_failed == 1
    assert "no recognisable header" in result.failures[0][1]


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("inspections/古林派出所/2022-07/a.csv", "古林派出所"),
        ("inspections/2022-07-15/高桥派出所_20220715.csv", "高桥派出所"),  # date folder: not a name
        ("inspections/江口所20220715.csv", "江口所"),
        ("inspections/20220715.csv", None),
    ],
)
def test_station_from_path(rel, expected):
    assert station_from_path(rel) == expected


def _station_file(raw, rel, title="", column=True):
    header = (
        "检查编号,检查日期,派出所,场所名称" if column else "检查编号,检查日期,场所名称,场所类型"
    )
    row = "A1,2022-07-15,古林派出所,店1" if column else "A1,2022-07-15,店1,"
    row2 = "A2,2022-07-15,,店2" if column else "A2,2022-07-15,店2,"
    # the remark column makes every file's bytes distinct (identical bytes = duplicate)
    write(raw, rel, (title + "\n" if title else "") + f"{header},备注\n{row},{rel}\n{row2},\n")


def test_station_column_then_title_then_path(conn, raw):
    _station_file(raw, "inspections/江口派出所/col.csv", "填报单位：高桥派出所")
    _station_file(raw, "inspections/江口派出所/title.csv", "填报单位：高桥派出所", column=False)
    _station_file(raw, "inspections/江口派出所/folder.csv", column=False)
    _station_file(raw, "inspections/首南派出所_20220715.csv", column=False)
    land(conn, raw)
    got = rows(
        conn,
        "SELECT _source_path, inspection_id, station, _station_source "
        "FROM landing.inspections ORDER BY 1, 2",
    )
    assert got == [
        ("inspections/江口派出所/col.csv", "A1", "古林派出所", "column"),
        ("inspections/江口派出所/col.csv", "A2", "高桥派出所", "title"),  # empty cell: fallback
        ("inspections/江口派出所/folder.csv", "A1", "江口派出所", "path"),
        ("inspections/江口派出所/folder.csv", "A2", "江口派出所", "path"),
        ("inspections/江口派出所/title.csv", "A1", "高桥派出所", "title"),
        ("inspections/江口派出所/title.csv", "A2", "高桥派出所", "title"),
        ("inspections/首南派出所_20220715.csv", "A1", "首南派出所", "path"),
        ("inspections/首南派出所_20220715.csv", "A2", "首南派出所", "path"),
    ]


def test_export_time_title_then_file_name_then_first_seen(conn, raw):
    body = "检查编号,检查日期,派出所\nA1,2022-07-15,古林\n"
    write(raw, "inspections/t_20220701.csv", "填报日期: 2022-07-20 18:00\n" + body)
    write(raw, "inspections/n_2022-07-25.csv", body)
    write(raw, "inspections/seen.csv", body.replace("A1", "A3"))
    land(conn, raw)
    got = dict(rows(conn, "SELECT _source_path, _exported_at FROM landing.inspections"))
    assert got["inspections/t_20220701.csv"] == datetime(2022, 7, 20, 18, 0)
    assert got["inspections/n_2022-07-25.csv"] == datetime(2022, 7, 25)
    first_seen = {r["path"]: r["first_seen_at"] for r in ledger(conn)}
    assert got["inspections/seen.csv"] == first_seen["inspections/seen.csv"]
    assert {r["path"]: r["exported_at"] for r in ledger(conn)}[
        "inspections/t_20220701.csv"
    ] == datetime(2022, 7, 20, 18, 0)


def land_with_open_quote(conn, raw, third_line: str) -> dict:
    """Land a file whose line 3 opens a quote that never closes (lines 4-5 follow it): the
    reader counts two rows, one landed and one set aside. Returns the one set aside."""
    write(
        raw,
        "inspections/a.csv",
        "\n".join(
            [
                INSPECTION_HEADER,  # 1
                "A1,2022-07-15,,店1,小商店,1,1,0,否",  # 2
                third_line,  # 3
                "A3,2022-07-17,,店3,小商店,0,0,0,否",  # 4
                "A4,2022-07-18,,店4,小商店,0,0,0,否",  # 5
            ]
        )
        + "\n",
    )
    land(conn, raw)
    (entry,) = ledger(conn)
    assert (entry["rows_read"], entry["rows_landed"], entry["rows_quarantined"]) == (2, 1, 1)
    (held,) = quarantine(conn)
    return held


def test_an_unclosed_quote_names_the_lines_it_swallowed(conn, raw):
    """The csv reader reads on to the end of the file inside the open quote: one malformed row
    holds lines 3-5, and its message must say so, or those rows are gone without a word."""
    held = land_with_open_quote(conn, raw, 'A2,2022-07-16,,"店2,小商店,0,0,0,否')
    assert held["line_number"] == 3 and held["reason_code"] == "malformed_row"
    assert "runs on to line 5: lines 4-5 are inside this row" in held["message"], held


def test_an_unclosed_quote_longer_than_the_field_limit_still_names_its_lines(conn, raw):
    """The span is counted on the whole cells, not on the ones cut to the field limit."""
    held = land_with_open_quote(conn, raw, 'A2,2022-07-16,,"店2' + "长" * 40_000)
    assert held["line_number"] == 3
    assert "runs on to line 5: lines 4-5 are inside this row" in held["message"], held
