"""Every landing reason code, with a message naming file, line, field and value."""

from __future__ import annotations

import json

import pytest

from tests.landing.conftest import assert_conservation, land, quarantine, rows, write

pytestmark = pytest.mark.unit

HEADER = "检查编号,检查日期,派出所,发现隐患,督促整改,下发通知书,停业整改"


@pytest.mark.parametrize(
    ("line", "code", "fragments"),
    [
        (",2022-07-15,古林,1,1,0,否", "missing_key", ["inspection_id", "检查编号"]),
        ("A1,2022-13-45,古林,1,1,0,否", "bad_date", ["inspected_on", "'2022-13-45'"]),
        ("A1,,古林,1,1,0,否", "bad_date", ["inspected_on", "''"]),
        ("A1,1999-12-31,古林,1,1,0,否", "implausible_date", ["'1999-12-31'", "2000-01-01"]),
        ("A1,2022-07-22,古林,1,1,0,否", "implausible_date", ["'2022-07-22'", "2022-07-20"]),
        ("A1,2022-07-15,古林,-1,0,0,否", "bad_count", ["hazards_found", "'-1'"]),
        ("A1,2022-07-15,古林,三,0,0,否", "bad_count", ["hazards_found", "'三'"]),
        ("A1,2022-07-15,古林,1,0,很多,否", "bad_count", ["notices_issued", "'很多'"]),
        ("A1,2022-07-15,古林,1,0,0,也许", "bad_boolean", ["closure_ordered", "'也许'"]),
        ("A1,2022-07-15,古林,1,2,0,否", "rectified_exceeds_found", ["hazards_rectified 2", "1"]),
        ("A1,2022-07-15,古林,1,1,0", "malformed_row", ["6 cells", "header has 7"]),
        ("A1,2022-07-15,古林,1,1,0,否,extra", "malformed_row", ["8 cells", "header has 7"]),
    ],
)
def test_reason_codes(conn, raw, line, code, fragments):
    write(raw, "inspections/古林_20220720.csv", f"{HEADER}\nOK1,2022-07-21,古林,1,1,0,否\n{line}\n")
    result = land(conn, raw)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (2, 1, 1)
    (held,) = quarantine(conn)
    assert held["reason_code"] == code and held["stage"] == "landing"
    assert held["line_number"] == 3 and held["source_path"] == "inspections/古林_20220720.csv"
    assert held["message"].startswith("inspections/古林_20220720.csv line 3")
    for fragment in fragments:
        assert fragment in held["message"]
    raw_values = json.loads(held["raw_values"])
    assert raw_values["检查编号"] == (line.split(",")[0] or None)
    if line.endswith("extra"):
        assert raw_values["_cells_beyond_header"] == ["extra"]
    assert_conservation(conn)


def test_first_failing_rule_wins(conn, raw):
    write(raw, "inspections/a_20220720.csv", f"{HEADER}\n,bad,古林,-1,5,0,也许\n")
    land(conn, raw)
    assert [q["reason_code"] for q in quarantine(conn)] == ["missing_key"]


def test_truncated_last_line_is_malformed_not_lost(conn, raw):
    write(raw, "inspections/a_20220720.csv", f"{HEADER}\nA1,2022-07-15,古林,1,1,0,否\nA2,2022-07-")
    result = land(conn, raw)
    assert (result.rows_landed, result.rows_quarantined) == (1, 1)
    assert [q["reason_code"] for q in quarantine(conn)] == ["malformed_row"]


def test_trailing_empty_cells_are_not_malformed(conn, raw):
    write(raw, "inspections/a_20220720.csv", f"{HEADER},,\nA1,2022-07-15,古林,1,1,0,否,,,\n")
    land(conn, raw)
    assert rows(conn, "SELECT inspection_id FROM landing.inspections") == [("A1",)]


def test_disputes_and_traffic_rules(conn, raw):
    write(
        raw,
        "disputes/d_20220720.csv",
        "\n".join(
            [
                "纠纷编号,登记日期,派出所,是否民转刑,回访次数,化解日期",
                "D1,2022-07-01,古林,否,2,2022-07-05",
                "D2,2022-07-01,古林,maybe,2,",
                "D3,2022-07-01,古林,否,-2,",
                "D4,2022-07-01,古林,否,1,2022-99-01",
                "D5,2022-07-01,古林,否,1,",
            ]
        )
        + "\n",
    )
    write(
        raw,
        "traffic/t_20220720.csv",
        "\n".join(
            [
                "决定书编号,违法时间,执勤单位,罚款金额",
                "T1,2022-07-01 08:00,古林,50",
                "T2,2022-07-01 25:00,古林,50",
                "T3,2022-07-01 08:00,古林,五十",
            ]
        )
        + "\n",
    )
    land(conn, raw, "disputes")
    land(conn, raw, "traffic")
    held = {(q["record_type"], q["line_number"]): q["reason_code"] for q in quarantine(conn)}
    assert held == {
        ("disputes", 3): "bad_boolean",
        ("disputes", 4): "bad_count",
        ("disputes", 5): "bad_date",
        ("traffic", 3): "bad_date",
        ("traffic", 4): "bad_count",
    }
    assert rows(
        conn, "SELECT dispute_id, resolved_on IS NULL FROM landing.disputes ORDER BY 1"
    ) == [("D1", False), ("D5", True)]
    assert_conservation(conn)
