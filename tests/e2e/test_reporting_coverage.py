"""Operators see every gap without SQL (issue: coverage and data-quality marts): a station's
files for three days are dropped and a station is expected that never reports; the published
coverage mart and quality tables show exactly those station-days as MISSING, the scorecard's
coverage equals the generator's truth, and no quality table holds personal data."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e
TYPES = ("inspections", "disputes", "traffic")
REPO = Path(__file__).resolve().parents[2]


def daily_stream(truth: dict) -> tuple[str, str, list[str]]:
    """A (station, record type) exported one file per day: three of its files of 2022 (the
    expected window; the historic days are not expected)."""
    files = defaultdict(list)
    for path, info in truth["files"].items():
        files[(info["station_id"], info["record_type"])].append((path, info["days"]))
    for (station, record_type), found in sorted(files.items()):
        if all(len(days) == 1 for _, days in found) and len(found) >= 5:
            main = [p for p, days in found if days[0].startswith("2022")]
            if len(main) >= 3:
                return station, record_type, sorted(main)[:3]
    raise AssertionError(f"no daily stream in {dict(files)}")


@pytest.fixture(scope="module")
def gaps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("coverage")
    raw = tmp / "raw"
    truth = generate_corpus(raw, stations=4, days=6, seed=17, silent_stations=1)
    station, record_type, dropped = daily_stream(truth)
    digests = {hashlib.sha256((raw / p).read_bytes()).hexdigest() for p in dropped}
    for path in [p for p in raw.rglob("*") if p.is_file()]:  # and any copy of them
        if hashlib.sha256(path.read_bytes()).hexdigest() in digests:
            path.unlink()
    dropped_days = {truth["files"][p]["days"][0] for p in dropped}
    wh = make_warehouse(tmp, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    return wh, truth, station, record_type, dropped_days


def query(wh, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_exactly_the_dropped_and_silent_station_days_are_missing(gaps):
    wh, truth, station, record_type, dropped_days = gaps
    (silent,) = truth["params"]["silent_station_ids"]
    days = sorted(
        {str(d) for (d,) in query(wh, "SELECT DISTINCT day FROM marts.mart_reporting_coverage")}
    )
    expected = {(station, record_type, d) for d in dropped_days}
    expected |= {(silent, t, d) for t in TYPES for d in days}
    missing = {
        (s, t, str(d))
        for s, t, d in query(
            wh,
            "SELECT station_id, record_type, day FROM marts.mart_reporting_coverage "
            "WHERE status = 'MISSING'",
        )
    }
    assert missing == expected
    # every other expected station-day reported
    stations = set(truth["coverage"])
    assert query(wh, "SELECT count(*) FROM marts.mart_reporting_coverage") == [
        (len(stations) * len(TYPES) * len(days),)
    ]


def test_the_scorecard_coverage_equals_the_generators_truth(gaps):
    wh, truth, station, record_type, dropped_days = gaps
    for sid, by_type in truth["coverage"].items():
        expected = sum(v["expected_days"] for v in by_type.values())
        reported = sum(v["reported_days"] for v in by_type.values())
        if sid == station:
            reported -= len(dropped_days)
        rows = query(
            wh,
            "SELECT expected_station_days, reported_station_days, "
            "missing_station_days, coverage_rate FROM quality.station_scorecard "
            "WHERE station_id = ? AND expected_station_days > 0",
            [sid],
        )
        assert len(rows) == 1, (sid, rows)
        got_expected, got_reported, got_missing, rate = rows[0]
        assert (got_expected, got_reported, got_missing) == (
            expected,
            reported,
            expected - reported,
        ), sid
        assert round(float(rate), 6) == round(reported / expected, 6), sid


def test_no_quality_table_holds_personal_data(gaps):
    wh, truth, *_ = gaps
    pii = set(truth["pii_values"])
    tables = [
        t
        for (t,) in query(
            wh, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'quality'"
        )
    ]
    assert sorted(tables) == ["file_ledger", "quarantine", "station_scorecard", "unknown_values"]
    text = []
    for table in tables:
        for row in query(wh, f"SELECT * FROM quality.{table}"):
            text.extend(str(v) for v in row if v is not None)
    blob = "\n".join(text)
    assert [v for v in pii if v in blob] == []
    # the quarantine's raw values are there, with personal fields as keyed hashes
    assert (
        query(wh, "SELECT count(*) FROM quality.quarantine WHERE raw_values IS NOT NULL")[0][0] > 0
    )


def documented_sql(heading: str) -> str:
    """The SQL block that follows a heading in docs/bi_access.md (tested as written)."""
    text = (REPO / "docs" / "bi_access.md").read_text(encoding="utf-8")
    at = text.index(heading)
    return re.search(r"```sql\n(.*?)```", text[at:], re.S).group(1)


def test_which_stations_did_not_report_on_which_days_is_one_select(gaps):
    wh, truth, station, record_type, dropped_days = gaps
    sql = documented_sql("Which stations did not report on which days")
    assert sql.lstrip().lower().startswith("select")
    rows = query(wh, sql)
    found = {(name, str(day), rt) for name, day, rt in rows}
    names = dict(query(wh, "SELECT station_id, station_name FROM marts.dim_station"))
    campaign_days = {d for d in dropped_days if d >= "2022-06-25"}
    assert {(names[station], d, record_type) for d in campaign_days} <= found


def test_documented_safe_sums_give_the_truth(gaps):
    wh, truth, *_ = gaps
    sql = documented_sql("Summing a campaign mart")
    got = dict(query(wh, sql))
    totals = defaultdict(int)  # the campaign total: its cities' ALL rows in the truth
    for r in truth["mart_campaign_traffic"]:
        if r["level"] == "city" and r["violation_code"] == "ALL":
            totals[r["campaign_id"]] += r["violations"]
    assert got == dict(totals)
