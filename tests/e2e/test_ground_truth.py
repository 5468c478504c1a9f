"""Generated messy corpora publish exactly the generator's truth (issues: landing, models).

One generated warehouse is run three times (a fresh run, a rerun on the same files, a run after
an operator adds station aliases); each test asserts on the run it names.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import Warehouse, load_truth, make_warehouse

pytestmark = pytest.mark.e2e

MARTS = ("mart_campaign_inspections", "mart_campaign_disputes", "mart_campaign_traffic")
FACTS = (
    ("inspections", "fct_inspections"),
    ("disputes", "fct_disputes"),
    ("traffic", "fct_traffic_violations"),
)


@dataclass
class Run:
    wh: Warehouse
    truth: dict
    result: object
    summary: str
    ok: bool
    first_run_id: str = ""


def assert_marts_equal_truth(wh, truth):
    for mart in MARTS:
        expected_rows = truth[mart]
        assert expected_rows, f"truth has no rows for {mart}"
        columns = list(expected_rows[0])
        expected = sorted((tuple(r[c] for c in columns) for r in expected_rows), key=repr)
        # DuckDB returns int or Decimal; both compare and hash equal to the truth's ints
        published = wh.published(mart, columns)
        missing = sorted(set(expected) - set(published), key=repr)[:5]
        extra = sorted(set(published) - set(expected), key=repr)[:5]
        assert not missing and not extra, f"{mart}: missing {missing} extra {extra}"


def fact_rows(wh) -> int:
    return sum(len(wh.published(table)) for _, table in FACTS)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, repo_root) -> Run:
    tmp = tmp_path_factory.mktemp("truth")
    # a copy of the dbt project, so the alias test can change a seed
    dbt_copy = tmp / "dbt_project"
    shutil.copytree(
        repo_root / "dbt_project",
        dbt_copy,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    raw = tmp / "raw"
    generate_corpus(raw, stations=4, days=4, seed=7)
    wh = make_warehouse(tmp, raw, WAREHOUSE_DBT_PROJECT_DIR=str(dbt_copy))
    result, summary, ok = wh.run()
    return Run(wh, load_truth(raw), result, summary, ok)


@pytest.fixture(scope="module")
def second_run(first_run) -> Run:
    wh = first_run.wh
    result, summary, ok = wh.run()
    return Run(wh, first_run.truth, result, summary, ok, first_run.result.run_id)


def test_generated_corpus_publishes_exactly_its_truth(first_run):
    wh, truth = first_run.wh, first_run.truth
    assert first_run.result.success and first_run.ok, first_run.summary
    assert_marts_equal_truth(wh, truth)

    # every file: rows read = landed + quarantined; broken files failed alone with a reason
    ledger = wh.working(
        "SELECT record_type, status, rows_read, rows_landed, rows_quarantined, "
        "error_message FROM ops.file_ledger"
    )
    assert all(read == landed + quar for _, _, read, landed, quar, _ in ledger)
    for record_type, expected in truth["landing"].items():
        rows = [r for r in ledger if r[0] == record_type]
        assert sum(1 for r in rows if r[1] == "failed") == expected["files_failed"]
        assert all(r[5] for r in rows if r[1] == "failed")
        assert sum(1 for r in rows if r[1] == "duplicate") == expected["files_duplicate"]
        assert sum(r[2] for r in rows) == expected["rows_read"], record_type
        assert sum(r[4] for r in rows) == expected["rows_quarantined_landing"], record_type

    # fact row counts equal the distinct valid records of the truth
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type], table

    # the run summary names the files set aside
    assert "succeeded with failures" in first_run.summary
    assert "FAILED FILE" in first_run.summary


def run_results(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results}


ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
PHONE = re.compile(r"\b1\d{10}\b")
PLATE = re.compile(r"[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}")


def test_no_personal_data_in_any_published_table(first_run):
    wh = first_run.wh
    pii_values = set(first_run.truth["pii_values"])
    assert pii_values
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        ]
        assert "fct_traffic_violations" in tables
        for table in tables:
            for row in conn.execute(f"SELECT * FROM marts.{table}").fetchall():
                for value in row:
                    text = str(value)
                    assert not ID_NUMBER.search(text), (table, text)
                    assert not PHONE.search(text), (table, text)
                    assert not PLATE.search(text), (table, text)
                    assert text not in pii_values, (table, text)
    # the plates are there as keyed hashes: same plate, same key; no key is a bare sha256
    keys = wh.published("fct_traffic_violations", ["plate_key"])
    assert any(k for (k,) in keys)


def test_rerun_on_unchanged_files_lands_nothing_and_publishes_the_same(second_run):
    wh = second_run.wh
    assert second_run.result.success and second_run.ok, second_run.summary
    run_id = second_run.result.run_id
    assert wh.working(f"SELECT count(*) FROM ops.file_ledger WHERE run_id = '{run_id}'")[0][0] == 0
    assert_marts_equal_truth(wh, second_run.truth)
    # nothing was rewritten: the fact tables' row checks read only rows stamped after what the
    # published run validated (none), their reconciliation only the numbers changed since (the
    # rejected ones), mart_station_daily's only the months written since (none: no fact month
    # changed), the campaign marts' only the campaigns written since, the other aggregate
    # checks still read everything
    reports = wh.settings().reports_dir
    first = json.loads((reports / second_run.first_run_id / "watermarks.json").read_text())
    campaign_marts = {
        "mart_campaign_inspections",
        "mart_campaign_disputes",
        "mart_campaign_traffic",
    }
    assert set(first) == {table for _, table in FACTS} | {"mart_station_daily"} | campaign_marts
    checks = json.loads((reports / run_id / "checks.json").read_text())
    scopes = {(c["table"], c["name"]): c["rows_scope"] for c in checks}
    for _, table in FACTS:
        since = first[table]["value"]
        assert scopes[(table, "counts_non_negative")] == f"rows with _resolved_at > {since}"
        assert scopes[(table, "reconciliation")] == f"aggregate of what changed since {since}"
        assert scopes[(table, "completeness")] == "aggregate"
    since = first["mart_station_daily"]["value"]
    assert scopes[("mart_station_daily", "counts_non_negative")] == f"rows with _built_at > {since}"
    assert scopes[("mart_station_daily", "reconciliation")] == (
        f"aggregate of what changed since {since}"
    )
    assert scopes[("mart_station_daily", "rates_match_counts")] == "aggregate"
    for mart in campaign_marts:
        assert scopes[(mart, "reconciliation")] == (
            f"aggregate of what changed since {first[mart]['value']}"
        )
    # the months it wrote again are those whose facts were stamped again (the records sharing
    # a number with a rejected one: every rejected number is resolved again each night)
    written = wh.working(
        "SELECT DISTINCT _month FROM marts.mart_station_daily WHERE _built_at > ?::TIMESTAMP",
        [since],
    )
    restamped = wh.working(
        " UNION ".join(
            f"SELECT DISTINCT date_trunc('month', {day})::DATE FROM marts.{table} "
            f"WHERE _resolved_at > '{first[table]['value']}'::TIMESTAMP"
            for table, day in (
                ("fct_inspections", "inspected_on"),
                ("fct_disputes", "reported_on"),
                ("fct_traffic_violations", "occurred_on"),
            )
        )
    )
    assert set(written) == set(restamped)
    # the fact months carry their row stamp, so the next publish hashes only changed months
    latest = json.loads((wh.home / "published" / "latest.json").read_text())
    manifest = json.loads(Path(latest["manifest"]).read_text())
    for _, table in FACTS:
        info = manifest["tables"][table]
        assert info["source"]["row_stamp"] == "_resolved_at", table
        assert all(f["source_stamp"] and len(f["source_partial"]) == 3 for f in info["files"])
    assert "source" not in manifest["tables"]["mart_station_daily"]
    # dbt's unit tests passed in the first run on the same code: the rerun leaves them out
    target = wh.settings().dbt_target_dir
    assert json.loads((target / "unit_tests_passed.json").read_text())["run_id"] == (
        second_run.first_run_id
    )
    assert not [uid for uid in run_results(target) if uid.startswith("unit_test.")]


def test_unknown_station_published_after_alias_added_to_seed(second_run):
    wh, truth = second_run.wh, second_run.truth
    unknown = truth["unknown_station_names"]
    assert unknown
    held = wh.working("SELECT count(*) FROM ops.quarantine WHERE reason_code = 'unknown_station'")[
        0
    ][0]
    assert held == truth["model_quarantine"]["unknown_station"] > 0
    facts_before = fact_rows(wh)

    # the operator adds the unknown spellings as aliases of a known station
    seed = wh.settings().dbt_project_dir / "seeds" / "station_aliases.csv"
    with open(seed, "a", newline="") as f:
        writer = csv.writer(f)
        for name in unknown:
            writer.writerow([name, "YC_YH_SANLULI"])
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    # the seed is part of the dbt project: changed code runs dbt's unit tests again
    units = [u for u in run_results(wh.settings().dbt_target_dir) if u.startswith("unit_test.")]
    assert len(units) == 3
    assert (
        wh.working("SELECT count(*) FROM ops.quarantine WHERE reason_code = 'unknown_station'")[0][
            0
        ]
        == 0
    )
    assert fact_rows(wh) == facts_before + held
