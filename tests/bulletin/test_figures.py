"""Bulletin figures on a tiny, hand-counted published catalog (tests/bulletin/catalog_fixture.py):
metric definitions, periods, comparisons, movers, coverage note, errors, the page itself."""

from __future__ import annotations

import copy
import html as htmllib
import re
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from pipelines.bulletin import build as build_module
from pipelines.bulletin.build import build_bulletin
from pipelines.bulletin.phrases import Phrases
from pipelines.bulletin.reader import BulletinError, open_catalog
from pipelines.bulletin.render import render_html, render_text
from pipelines.bulletin.scope import Period
from tests.bulletin.catalog_fixture import COVERAGE_EXPECTED, make_published
from tests.bulletin.page import column, number, numbers_in, parse, percent

pytestmark = pytest.mark.unit

HEADLINE = (
    "测试“百日行动”开展一个月以来，全市公安派出所共检查“九小场所”2家，发现隐患3处，督促整改2处，"
    "下发隐患通知书1份；摸排矛盾纠纷线索2条，化解矛盾纠纷1条；通过接处警警情排查掌握矛盾纠纷1条，"
    "化解1条；清查出租屋、公寓3户10间，宾馆酒店1家次，下达隐患整改通知书1份，整改治安隐患1处，"
    "依法停业整改宾馆酒店1家；查处交通违法行为4起，其中行人闯红灯1起、非机动车逆向行驶2起、"
    "电动自行车未戴头盔1起；警告1起、教育1起、罚款2起，罚款金额4.75万元。"
)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return make_published(tmp_path_factory.mktemp("tiny"), coverage="plain")


@pytest.fixture(scope="module")
def city(published):
    """The 甲市 bulletin of C1's first month, and its page."""
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "甲市", period_kind="first-month")
    page = render_html(b)
    return b, page, parse(page)


def test_headline_is_the_reports_paragraph_with_hand_counted_figures(city):
    b, _html, page = city
    assert render_text(b) == HEADLINE + "\n"
    assert page.headline == HEADLINE
    # every number of the headline is a figure linked to the SQL that produced it
    assert [number(text) for _f, _h, text in page.figures] == numbers_in(HEADLINE)


def test_venues_are_distinct_over_the_period_and_ids_repeat_across_stations(city):
    b, _html, _page = city
    nine = b.group("inspections", "ALL_NINE_SMALL")
    # 甲店 of S1 twice (JC1 and JC2) is one venue; 甲店 of S2 (JC1 again) is another
    assert (nine["venues_inspected"], nine["inspection_visits"]) == (2, 3)
    everything = b.group("inspections", "ALL")
    # the nameless rental flat is a venue of its own (its inspection id stands for the name)
    assert (everything["venues_inspected"], everything["inspection_visits"]) == (4, 5)
    assert b.group("disputes", "CANVASS")["disputes_found"] == 2  # JF1 at S1 and at S2
    assert b.group("traffic", "ALL")["violations"] == 4  # T1 and T2 at two stations each
    assert b.group("inspections", "HOTEL")["closures_ordered"] == 1
    assert b.group("inspections", "OUTSIDE_NINE_SMALL")["notices_issued"] == 1
    # records of the other city and of other campaigns are not counted
    assert b.group("disputes", "GRID") is None
    assert b.group("traffic", "ALL")["fines_yuan"] == 47500


def test_rates_are_rounded_half_up(city):
    b, _html, page = city
    assert b.group("inspections", "ALL_NINE_SMALL")["rectification_pct"] == 66.7  # 2 / 3
    assert b.group("disputes", "CANVASS")["resolution_pct"] == 50.0
    table = page.tables["table-inspections"]
    idx = column(table, b.phrases.get("columns.rectification_pct"))
    assert percent(table.rows["ALL_NINE_SMALL"][idx]) == Decimal("66.7")


def test_comparisons_against_the_previous_period_and_a_year_earlier(city):
    b, _html, page = city
    assert b.period.previous() == Period(date(2024, 5, 2), date(2024, 5, 31), "previous")
    rows = {(r["section"], r["group"], r["metric"]): r for r in b.comparison}
    visits = rows[("inspections", "ALL", "inspection_visits")]
    assert (visits["current"], visits["previous"], visits["year_ago"]) == (5, 1, 1)
    assert visits["previous_change"] == Decimal(400)
    disputes = rows[("disputes", "ALL", "disputes_found")]
    assert (disputes["previous"], disputes["year_ago"]) == (1, None)
    # no traffic record in either base period: no base, shown as —
    table = page.tables["table-comparison"]
    assert table.rows["traffic.ALL.violations"][2:] == ["—", "—", "—", "—"]
    assert table.rows["inspections.ALL.inspection_visits"][1:] == [
        "5",
        "1",
        "+400.0%",
        "1",
        "+400.0%",
    ]
    # a base of 0 is no base either
    rectified = rows[("inspections", "ALL", "hazards_rectified")]
    assert rectified["previous"] == 0 and rectified["previous_change"] is None
    assert b.base_days == {"current": 6, "previous": 2, "year_ago": 1}


def test_sub_units_with_zeros_and_the_movers(city):
    b, _html, page = city
    table = page.tables["table-sub-units"]
    assert table.order == ["丁分局", "乙县公安局", "甲分局"]  # 丁分局 has no records: zeros
    visits = column(table, b.phrases.get("columns.inspection_visits"))
    assert [table.rows[u][visits] for u in table.order] == ["0", "1", "4"]
    assert b.sub_units["movers_text"] == (
        "与上期相比，检查场所家次变化最大的是甲分局（+3家次，+300.0%）。"
    )
    assert page.ids["movers"] == b.sub_units["movers_text"]


def test_breakdown_tables_hold_the_figures(city):
    b, _html, page = city
    table = page.tables["table-traffic"]
    assert table.order == ["PED_RED_LIGHT", "NMV_WRONG_WAY", "EBIKE_NO_HELMET", "ALL"]
    fines = column(table, b.phrases.get("columns.fines_yuan"))
    assert table.rows["ALL"][fines] == "47500"  # tables keep every digit
    disputes = page.tables["table-disputes"]
    assert disputes.rows["CANVASS"][0] == "摸排"


def test_the_page_is_self_contained_and_every_sql_reruns_on_the_catalog(city, published):
    b, page_html, page = city
    assert '<meta charset="utf-8">' in page_html
    lowered = page_html.lower()
    for outside in ("<link", " src=", "@import", "<iframe", "<object"):
        assert outside not in lowered, outside
    assert re.findall(r"url\((?!#)", lowered) == []  # only references within the page
    hrefs = re.findall(r'href="([^"]*)"', page_html)
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if h[0] != "#"]
    # namespaces of the inline SVG are the only URLs
    assert set(re.findall(r"https?://[^\s\"'<>]+", page_html)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert len(b.charts) == 4 and "<svg" in page_html and "<text" not in page_html
    assert "<!--" not in page_html  # nothing a name could close and escape from
    # each query shown is exactly the one that ran, and gives the same rows in another client
    assert sorted(page.sql) == [q.qid for q in b.queries]
    with duckdb.connect(str(published / "catalog.duckdb"), read_only=True) as conn:
        for q in b.queries:
            assert htmllib.unescape(page.sql[q.qid]) == q.sql
            assert conn.execute(page.sql[q.qid]).fetchall() == q.rows, q.qid
    # every headline figure links to a query whose rows hold it
    by_id = {q.qid: q for q in b.queries}
    for figure, href, text in page.figures:
        section, code, metric = figure.split(".")
        query = by_id[href.lstrip("#")]
        row = next(r for r in query.records() if r["group_code"] == code)
        assert row[metric] == number(text), figure
    assert page.ids["prov-version"] == b.version and page.ids["prov-run-id"] == "run-1"


def test_coverage_note_from_the_coverage_mart(city):
    b, _html, page = city
    total = b.coverage["total"]
    want = COVERAGE_EXPECTED
    assert (total["stations_expected"], total["stations_reporting"]) == (
        want["stations_expected"],
        want["stations_reporting"],
    )
    assert (
        total["station_days_missing"],
        total["station_days_late"],
        total["station_days_partial"],
    ) == (want["missing"], want["late"], want["partial"])
    assert (total["rows_quarantined"], total["rows_held_back"], total["rows_set_aside"]) == (
        want["quarantined"],
        want["held_back"],
        want["set_aside"],
    )
    text = page.ids["coverage-text"]
    assert "应报送派出所4个，期间有报送的3个；缺报4个站日" in text
    assert "剔除记录3条" in text and "五所（3个站日）" in text


def test_coverage_rollup_rows_are_not_added_to_the_stations(tmp_path):
    published = make_published(tmp_path, coverage="with_rollups")
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "甲市", period_kind="first-month")
    assert b.coverage["total"]["station_days_missing"] == COVERAGE_EXPECTED["missing"]
    assert b.coverage["total"]["stations_expected"] == COVERAGE_EXPECTED["stations_expected"]
    assert "c.level = 'station'" in next(q.sql for q in b.queries if q.qid == b.coverage["qid"])


def test_without_the_coverage_mart_the_note_says_so(tmp_path):
    published = make_published(tmp_path, coverage=None)
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "甲市", period_kind="first-month")
    page = parse(render_html(b))
    assert b.coverage["available"] is False
    assert "coverage data not published in this version" in page.ids["coverage-text"]
    assert "table-coverage" not in page.tables


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("first-month", date(2024, 6, 1), date(2024, 6, 30)),
        ("whole", date(2024, 6, 1), date(2024, 6, 10)),  # to C1's last day with records
        ("last-week", date(2024, 6, 4), date(2024, 6, 10)),
    ],
)
def test_periods(published, kind, start, end):
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "一所", period_kind=kind)
    assert (b.period.start, b.period.end) == (start, end)


def test_a_custom_period_and_a_station_by_id(published):
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "S2", start=date(2024, 6, 3), end=date(2024, 6, 4))
    assert (b.unit.level, b.unit.name) == ("station", "二所")
    assert b.sub_units is None
    assert render_text(b).startswith(
        "测试“百日行动”2024年6月3日至6月4日期间，二所通过接处警警情排查掌握矛盾纠纷1条"
    )
    assert b.group("inspections", "ALL")["inspection_visits"] == 1  # JC2 on 06-03 only


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("NOPE", "甲市", "whole"),
            ["unknown campaign 'NOPE'", 'C1 (测试"百日行动")', "C2 (交通整治)"],
        ),
        (
            ("C1", "北京", "whole"),
            [
                "unit '北京' is not a unit of campaign C1",
                "cities 乙市, 甲市",
                "bureaus 丙分局, 乙县公安局, 甲分局",
                "stations 四所",
            ],
        ),
        (("C1", "五所", "whole"), ["unit '五所' has no records in campaign C1"]),
        (("C2", "四所", "whole"), ["has no records in campaign C2", "cities 甲市"]),
        (("C1", None, "whole"), ["several cities; choose --unit from: 乙市, 甲市"]),
        (
            ("C1", "甲市", "tomorrow"),
            ["unknown period 'tomorrow'", "first-month, last-week, whole"],
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_valid_choices(published, args, words):
    campaign, unit, kind = args
    with open_catalog(published) as cat, pytest.raises(BulletinError) as err:
        build_bulletin(cat, campaign, unit, period_kind=kind)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_period_without_records_names_the_span_that_has_them(published):
    with open_catalog(published) as cat, pytest.raises(BulletinError) as err:
        build_bulletin(cat, "C1", "甲市", start=date(2024, 8, 1), end=date(2024, 8, 31))
    assert "\n" not in str(err.value)
    assert "no records of campaign C1 for 甲市 from 2024-08-01 to 2024-08-31" in str(err.value)
    assert "span 2024-06-01 to 2024-06-10" in str(err.value)


def test_without_a_chinese_font_the_charts_are_left_out_and_the_page_says_so(
    published, monkeypatch
):
    monkeypatch.setattr(build_module, "find_cjk_font", lambda _fonts: None)
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "甲市", period_kind="first-month")
    page = parse(render_html(b))
    assert b.charts == []
    assert "没有中文字体" in page.ids["charts-note"]
    assert any("no font with Chinese glyphs" in w for w in b.warnings)


def test_wording_comes_from_the_phrase_table(published):
    phrases = Phrases.load()
    data = copy.deepcopy(phrases.data)
    data["subject"]["city"] = "全市各单位"
    data["period"]["first-month"] = "第一个月"
    data["venue_words"]["HOTEL"] = "旅店"
    with open_catalog(published) as cat:
        b = build_bulletin(cat, "C1", "甲市", period_kind="first-month", phrases=Phrases(data))
    text = render_text(b)
    assert text.startswith("测试“百日行动”第一个月，全市各单位共检查")
    assert "，旅店1家次" in text


def test_numbers_are_written_as_the_reports_write_them():
    p = Phrases.load()
    assert [p.count(v) for v in (4034, 0, 12345, 47500, 100000, 32900)] == [
        "4034",
        "0",
        "12345",
        "4.75万",
        "10万",
        "3.29万",
    ]
    assert p.pct(Decimal("12.25")) == "12.3%"
    assert p.pct(Decimal("-3.05"), signed=True) == "−3.1%"
    assert p.pct(Decimal("0"), signed=True) == "0.0%"
    assert p.pct(None) == "—"
    assert p.quoted('夏季治安打击整治"百日行动"') == "夏季治安打击整治“百日行动”"
    assert p.date_range(date(2022, 6, 25), date(2022, 7, 24)) == "2022年6月25日至7月24日"
    assert p.date_range(date(2021, 12, 25), date(2022, 1, 3)) == "2021年12月25日至2022年1月3日"


def test_period_arithmetic():
    p = Period(date(2024, 2, 1), date(2024, 2, 29), "custom")
    assert p.previous() == Period(date(2024, 1, 3), date(2024, 1, 31), "previous")
    assert p.year_ago() == Period(date(2023, 2, 1), date(2023, 2, 28), "year_ago")
