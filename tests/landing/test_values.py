"""Value forms: dates, times, counts, booleans, full-width digits (SQL macros and end to end)."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from pipelines.landing.mapping import load_mapping
from pipelines.landing.normalise import create_macros, date_in_name, parse_datetime
from pipelines.landing.stage import _clean
from tests.landing.conftest import land, rows, write

pytestmark = pytest.mark.unit


@pytest.fixture
def sql(conn):
    create_macros(conn, load_mapping())
    return lambda expr, value: conn.execute(f"SELECT {expr}", [value]).fetchall()[0][0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-07-15", datetime(2022, 7, 15)),
        ("2022/7/15", datetime(2022, 7, 15)),
        ("2022.7.5", datetime(2022, 7, 5)),
        ("2022年7月15日", datetime(2022, 7, 15)),
        ("2022年07月15日 08:30", datetime(2022, 7, 15, 8, 30)),
        ("20220715", datetime(2022, 7, 15)),
        ("20220715 08:30:05", datetime(2022, 7, 15, 8, 30, 5)),
        ("2022-07-15 08:30", datetime(2022, 7, 15, 8, 30)),
        ("2022/7/15 8:05:09", datetime(2022, 7, 15, 8, 5, 9)),
        ("44757", datetime(2022, 7, 15)),
        ("44757.5", datetime(2022, 7, 15, 12, 0)),
        ("2022-07-15 08:30:00.000", datetime(2022, 7, 15, 8, 30)),
    ],
)
def test_date_forms(sql, text, expected):
    assert sql("lk_ts(?)", text) == expected


@pytest.mark.parametrize(
    "text",
    ["2022-13-01", "2022-02-30", "15/07/2022", "yesterday", "12345", "2022-07-15 25:00", "0715"],
)
def test_bad_dates_do_not_parse(sql, text):
    assert sql("lk_ts(?)", text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 0),
        ("3", 3),
        ("3处", 3),
        ("20元", 20),
        ("1,200", 1200),
        ("3.0", 3),
        ("12 份", 12),
        ("-3", None),
        ("2.5", None),
        ("abc", None),
        ("3处5", None),
    ],
)
def test_counts(sql, text, expected):
    assert sql("lk_count(?)", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, False),
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("√", True),
        ("×", False),
        ("1", True),
        ("0", False),
        ("已整改", True),
        ("未整改", False),
        ("TRUE", True),
        ("false", False),
        ("maybe", None),
        ("2", None),
    ],
)
def test_booleans(sql, text, expected):
    assert sql("lk_bool(?)", text) == expected


def test_clean_trims_nulls_and_half_widths_non_text_fields():
    values = pa.array(["  Ｉ００９\u3000", "", None, "２０２２年７月１５日", " a "])
    assert _clean(values, half=True).to_pylist() == ["I009", None, None, "2022年7月15日", "a"]
    text = pa.array(["\u3000古林\u3000派出所 ", "", "ＡＢ"])
    # text keeps its characters (NFKC happens in dbt's normalise_text) but loses U+3000
    assert _clean(text, half=False).to_pylist() == ["古林派出所", None, "ＡＢ"]


def test_python_twin_for_title_and_file_name_dates():
    assert parse_datetime("２０２２年７月２０日") == datetime(2022, 7, 20)
    assert parse_datetime("2022-07-20 18:00") == datetime(2022, 7, 20, 18, 0)
    assert parse_datetime("七月") is None
    assert date_in_name("古林_20220720.csv") == datetime(2022, 7, 20)
    assert date_in_name("古林_2022-07-20_v2.csv") == datetime(2022, 7, 20)
    assert date_in_name("古林_2022_07_20.csv") == datetime(2022, 7, 20)
    assert date_in_name("古林_2022-0720.csv") is None  # mixed separators are not a date
    assert date_in_name("export_12345678.csv") is None


def test_value_forms_land_typed(conn, raw):
    write(
        raw,
        "inspections/古林派出所_20220731.csv",
        "\n".join(
            [
                "检查编号,检查日期,场所名称,发现隐患(处),督促整改,下发通知书,停业整改",
                "A1,２０２２年７月１５日,店1,３处,1,是,已整改",
                "A2,20220716,店2,,,否,",
                "A3,44758,店3,5,5,2,√",
                "A4,2022/7/18 9:30,店4,1,0,0,N",
            ]
        )
        + "\n",
    )
    land(conn, raw)
    got = rows(
        conn,
        "SELECT inspection_id, inspected_on, hazards_found, hazards_rectified, "
        "notices_issued, closure_ordered FROM landing.inspections ORDER BY 1",
    )
    assert got == [
        ("A1", date(2022, 7, 15), 3, 1, 1, True),
        ("A2", date(2022, 7, 16), 0, 0, 0, False),
        ("A3", date(2022, 7, 16), 5, 5, 2, True),
        ("A4", date(2022, 7, 18), 1, 0, 0, False),
    ]


def test_traffic_keeps_the_time(conn, raw):
    write(
        raw,
        "traffic/江口派出所/t_20220731.csv",
        "\n".join(
            [
                "决定书编号,违法时间,违法行为,罚款金额(元)",
                "T1,2022-07-15 08:30,闯红灯,20元",
                "T2,2022年7月15日 21:05:09,逆向行驶,",
            ]
        )
        + "\n",
    )
    land(conn, raw, "traffic")
    assert rows(
        conn, "SELECT ticket_id, occurred_at, unit, fine_yuan FROM landing.traffic ORDER BY 1"
    ) == [
        ("T1", datetime(2022, 7, 15, 8, 30), "江口派出所", 20),
        ("T2", datetime(2022, 7, 15, 21, 5, 9), "江口派出所", 0),
    ]
