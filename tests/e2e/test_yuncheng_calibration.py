"""The calibration scenario reproduces the figures of the Yuncheng report (seed 001)."""

from __future__ import annotations

import pytest

from pipelines.generate import generate_scenario
from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e
CAMPAIGN = "SUMMER_100D_2022"
OUTSIDE_NINE = (
    "RENTAL_HOUSING",
    "HOTEL",
    "FOOT_MASSAGE",
    "ENTERTAINMENT",
    "BATHHOUSE",
    "CONVERTED_FACTORY_FLATS",
)


def test_yuncheng_2022_reproduces_the_report(tmp_path):
    raw = tmp_path / "raw"
    generate_scenario("yuncheng-2022", raw)
    wh = make_warehouse(tmp_path, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary

    cols = [
        "venue_type_code",
        "venues_inspected",
        "inspection_visits",
        "hazards_found",
        "hazards_rectified",
        "notices_issued",
        "closures_ordered",
        "rental_households",
        "rental_rooms",
    ]
    rows = _city_rows(wh, "mart_campaign_inspections", cols)
    insp = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    nine = insp["ALL_NINE_SMALL"]
    assert (
        nine["venues_inspected"],
        nine["hazards_found"],
        nine["hazards_rectified"],
        nine["notices_issued"],
    ) == (4034, 196, 189, 60)
    assert (
        insp["RENTAL_HOUSING"]["rental_households"],
        insp["RENTAL_HOUSING"]["rental_rooms"],
    ) == (1542, 7521)
    assert insp["HOTEL"]["inspection_visits"] == 478
    assert insp["FOOT_MASSAGE"]["inspection_visits"] == 215
    assert insp["ENTERTAINMENT"]["closures_ordered"] == 7
    assert insp["BATHHOUSE"]["closures_ordered"] == 2
    outside = [insp[c] for c in OUTSIDE_NINE if c in insp]
    assert sum(r["notices_issued"] for r in outside) == 45
    assert sum(r["hazards_rectified"] for r in outside) == 10
    # the rollups agree with their parts
    assert insp["ALL"]["notices_issued"] == 60 + 45

    dcols = ["source_code", "disputes_found", "disputes_resolved"]
    disputes = {r[0]: r[1:] for r in _city_rows(wh, "mart_campaign_disputes", dcols)}
    assert disputes["CANVASS"] == (366, 267)
    assert disputes["CALL"] == (619, 583)


def _city_rows(wh, mart, cols):
    import duckdb

    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        return conn.execute(
            f"SELECT {', '.join(cols)} FROM marts.{mart} "
            "WHERE campaign_id = $c AND level = 'city' AND unit_name = '运城市'",
            {"c": CAMPAIGN},
        ).fetchall()
