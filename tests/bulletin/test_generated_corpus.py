"""On a generated corpus run through the real nightly job: the bulletins the run writes hold
exactly the generator's truth, read back out of the HTML (headline and every table)."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.bulletin import write_bulletin
from pipelines.bulletin.phrases import Phrases
from pipelines.generate import generate_corpus
from tests.bulletin.page import Page, column, number, numbers_in, parse, percent
from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e
CAMPAIGN = "SUMMER_100D_2022"
NINE = (
    "SMALL_SHOP",
    "SMALL_RESTAURANT",
    "SMALL_HOTEL",
    "SMALL_KTV",
    "SMALL_NETCAFE",
    "SMALL_BEAUTY_BATH",
    "SMALL_SCHOOL",
    "SMALL_CLINIC",
    "SMALL_WORKSHOP",
)
INSPECTION_COLUMNS = (
    "venues_inspected",
    "inspection_visits",
    "hazards_found",
    "hazards_rectified",
    "notices_issued",
    "closures_ordered",
    "rental_households",
    "rental_rooms",
)
DISPUTE_COLUMNS = (
    "disputes_found",
    "disputes_resolved",
    "mediations",
    "mediation_successes",
    "escalations",
)
PHRASES = Phrases.load()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("generated")
    raw = tmp / "raw"
    truth = generate_corpus(raw, stations=8, days=20, seed=5)
    wh = make_warehouse(tmp, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    return wh, truth, summary


class Truth:
    """The generator's campaign figures by (level, unit): {code: row} per mart."""

    def __init__(self, truth: dict):
        self.rows: dict[tuple[str, str, str], dict[str, dict]] = {}
        for mart, key in (
            ("mart_campaign_inspections", "venue_type_code"),
            ("mart_campaign_disputes", "source_code"),
            ("mart_campaign_traffic", "violation_code"),
        ):
            for row in truth[mart]:
                if row["campaign_id"] == CAMPAIGN:
                    self.rows.setdefault((mart, row["level"], row["unit_name"]), {})[row[key]] = row

    def get(self, mart: str, level: str, unit: str) -> dict[str, dict]:
        groups = dict(self.rows.get((mart, level, unit), {}))
        if mart == "mart_campaign_inspections":
            outside = [r for c, r in groups.items() if c not in (*NINE, "ALL", "ALL_NINE_SMALL")]
            if outside:  # the bulletin's own group: every type outside the nine, added up
                groups["OUTSIDE_NINE_SMALL"] = {
                    c: sum(r[c] for r in outside) for c in INSPECTION_COLUMNS
                }
        return groups

    def units(self, level: str) -> set[str]:
        return {u for (m, lv, u) in self.rows if lv == level}


def _pct(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _published_traffic(wh, level: str, unit: str) -> dict[str, dict]:
    """warnings / education / fines are not in truth.json: they come from the published mart
    (reconciled with the facts by the dbt tests), read with an explicit level and code."""
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        rows = conn.execute(
            "SELECT violation_code, warnings, educations, fines FROM marts.mart_campaign_traffic "
            "WHERE campaign_id = $c AND level = $l AND unit_name = $u",
            {"c": CAMPAIGN, "l": level, "u": unit},
        ).fetchall()
    return {r[0]: {"warnings": r[1], "educations": r[2], "fines": r[3]} for r in rows}


def _check_page(page: Page, truth: Truth, wh, level: str, unit: str, sub_level: str | None):
    insp = truth.get("mart_campaign_inspections", level, unit)
    disp = truth.get("mart_campaign_disputes", level, unit)
    traf = truth.get("mart_campaign_traffic", level, unit)
    extra = _published_traffic(wh, level, unit)
    expected = {
        "inspections": insp,
        "disputes": disp,
        "traffic": {c: {**r, **extra.get(c, {})} for c, r in traf.items()},
    }

    # the headline: every number in it is a tagged figure, and each equals the truth
    assert numbers_in(page.headline) == [number(t) for _f, _h, t in page.figures]
    assert page.figures, page.headline
    for figure, _href, text in page.figures:
        section, code, metric = figure.split(".")
        assert number(text) == expected[section][code][metric], (unit, figure)

    # the tables, cell by cell
    for section, mart in (("inspections", insp), ("disputes", disp), ("traffic", traf)):
        table = page.tables[f"table-{section}"]
        assert set(table.rows) == set(mart), (unit, section)
        for code, cells in table.rows.items():
            want = expected[section][code]
            for name in [h for h in PHRASES.get("columns") if h in want]:
                idx = column(table, PHRASES.get(f"columns.{name}"))
                assert number(cells[idx]) == want[name], (unit, section, code, name)
            if section == "inspections":
                idx = column(table, PHRASES.get("columns.rectification_pct"))
                assert percent(cells[idx]) == _pct(want["hazards_rectified"], want["hazards_found"])
            if section == "disputes":
                idx = column(table, PHRASES.get("columns.resolution_pct"))
                assert percent(cells[idx]) == _pct(
                    want["disputes_resolved"], want["disputes_found"]
                )

    # the current period of the comparison table
    comparison = page.tables["table-comparison"]
    for key, cells in comparison.rows.items():
        section, code, metric = key.split(".")
        assert number(cells[1]) == expected[section].get(code, {}).get(metric, 0), key

    if sub_level is None:
        return
    table = page.tables["table-sub-units"]
    subs = truth.units(sub_level) & set(table.rows)
    assert subs, (unit, "no sub-unit with records")
    for sub, cells in table.rows.items():
        i = truth.get("mart_campaign_inspections", sub_level, sub).get("ALL", {})
        d = truth.get("mart_campaign_disputes", sub_level, sub).get("ALL", {})
        t = truth.get("mart_campaign_traffic", sub_level, sub).get("ALL", {})
        want = {
            **{c: i.get(c, 0) for c in INSPECTION_COLUMNS},
            **{c: d.get(c, 0) for c in DISPUTE_COLUMNS},
            "violations": t.get("violations", 0),
            "fines_yuan": t.get("fines_yuan", 0),
        }
        for name in (
            "venues_inspected",
            "inspection_visits",
            "hazards_found",
            "hazards_rectified",
            "notices_issued",
            "disputes_found",
            "disputes_resolved",
            "violations",
            "fines_yuan",
        ):
            idx = column(table, PHRASES.get(f"columns.{name}"))
            assert number(cells[idx]) == want[name], (unit, sub, name)
        idx = column(table, PHRASES.get("columns.rectification_pct"))
        assert percent(cells[idx]) == _pct(want["hazards_rectified"], want["hazards_found"])


def test_the_run_writes_and_lists_the_bulletins_of_the_active_campaign(run):
    wh, raw_truth, summary = run
    truth = Truth(raw_truth)
    latest = json.loads((wh.home / "published" / "latest.json").read_text())
    listing = latest["bulletins"]
    assert listing["version"] == latest["version"] and listing["failed"] == []
    written = {(i["campaign_id"], i["level"], i["unit"]) for i in listing["items"]}
    # the corpus ends in SUMMER_100D_2022; the 2018 and 2020 campaigns are long over
    want = {(CAMPAIGN, "city", c) for c in truth.units("city")} | {
        (CAMPAIGN, "bureau", b) for b in truth.units("bureau")
    }
    assert written == want
    assert f"bulletins: {len(want)} written in {listing['dir']}" in summary


def test_every_number_of_every_bulletin_equals_the_truth(run):
    wh, raw_truth, _summary = run
    truth = Truth(raw_truth)
    listing = json.loads((wh.home / "published" / "latest.json").read_text())["bulletins"]
    for item in listing["items"]:
        page = parse(Path(item["html"]).read_text(encoding="utf-8"))
        sub_level = "bureau" if item["level"] == "city" else "station"
        _check_page(page, truth, wh, item["level"], item["unit"], sub_level)
        text = Path(item["text"]).read_text(encoding="utf-8").strip()
        assert text == page.headline


def test_a_station_bulletin_reads_only_the_published_catalog(run, tmp_path):
    wh, raw_truth, _summary = run
    truth = Truth(raw_truth)
    station = sorted(truth.units("station"))[0]
    working = wh.home / "warehouse.duckdb"
    moved = working.with_name("away.duckdb")
    working.rename(moved)  # the working database is not there at all
    try:
        out = write_bulletin(wh.home / "published", CAMPAIGN, station, out_dir=tmp_path)
    finally:
        moved.rename(working)
    page = parse(out.files.html.read_text(encoding="utf-8"))
    _check_page(page, truth, wh, "station", station, None)
    assert "table-sub-units" not in page.tables
