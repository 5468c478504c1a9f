"""Generated messy corpora publish exactly the generator's truth (issues: landing, models)."""

from __future__ import annotations

import csv
import re
import shutil

import duckdb
import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import load_truth, make_warehouse

pytestmark = pytest.mark.e2e

MARTS = ("mart_campaign_inspections", "mart_campaign_disputes", "mart_campaign_traffic")


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


@pytest.mark.parametrize("seed", [7, 11])
def test_generated_corpus_publishes_exactly_its_truth(tmp_path, seed):
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=4, days=4, seed=seed)
    truth = load_truth(raw)
    wh = make_warehouse(tmp_path, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary

    assert_marts_equal_truth(wh, truth)

    # every file: rows read = landed + quarantined; broken files failed alone with a reason
    ledger = wh.working("SELECT record_type, status, rows_read, rows_landed, rows_quarantined, "
                        "error_message FROM ops.file_ledger")
    assert all(read == landed + quar for _, _, read, landed, quar, _ in ledger)
    for record_type, expected in truth["landing"].items():
        rows = [r for r in ledger if r[0] == record_type]
        assert sum(1 for r in rows if r[1] == "failed") == expected["files_failed"]
        assert all(r[5] for r in rows if r[1] == "failed")
        assert sum(1 for r in rows if r[1] == "duplicate") == expected["files_duplicate"]
        assert sum(r[2] for r in rows) == expected["rows_read"], record_type
        assert sum(r[4] for r in rows) == expected["rows_quarantined_landing"], record_type

    # fact row counts equal the distinct valid records of the truth
    for record_type, table in (("inspections", "fct_inspections"),
                               ("disputes", "fct_disputes"),
                               ("traffic", "fct_traffic_violations")):
        assert len(wh.published(table)) == truth["facts"][record_type], table

    # a second run on the unchanged raw dir lands nothing and publishes the same figures
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    assert wh.working(f"SELECT count(*) FROM ops.file_ledger WHERE run_id = '{result.run_id}'"
                      )[0][0] == 0
    assert_marts_equal_truth(wh, truth)


ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
PHONE = re.compile(r"\b1\d{10}\b")
PLATE = re.compile(r"[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}")


def test_no_personal_data_in_any_published_table(tmp_path):
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=3, days=3, seed=5)
    pii_values = set(load_truth(raw)["pii_values"])
    assert pii_values
    wh = make_warehouse(tmp_path, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()]
        assert "fct_traffic_violations" in tables
        for table in tables:
            for row in conn.execute(f"SELECT * FROM marts.{table}").fetchall():
                for value in row:
                    text = str(value)
                    assert not ID_NUMBER.search(text), (table, text)
                    assert not PHONE.search(text), (table, text)
                    assert not PLATE.search(text), (table, text)
                    assert text not in pii_values, (table, text)


def test_unknown_station_published_after_alias_added_to_seed(tmp_path, repo_root):
    dbt_copy = tmp_path / "dbt_project"
    shutil.copytree(repo_root / "dbt_project", dbt_copy,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=3, days=3, seed=3)
    truth = load_truth(raw)
    unknown = truth["unknown_station_names"]
    assert unknown
    wh = make_warehouse(tmp_path, raw, WAREHOUSE_DBT_PROJECT_DIR=str(dbt_copy))
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    held = wh.working("SELECT count(*) FROM ops.quarantine WHERE reason_code = 'unknown_station'")
    assert held[0][0] > 0
    facts_before = len(wh.published("fct_inspections")) + len(wh.published("fct_disputes")) \
        + len(wh.published("fct_traffic_violations"))

    # the operator adds the unknown spellings as aliases of a known station
    with open(dbt_copy / "seeds" / "station_aliases.csv", "a", newline="") as f:
        writer = csv.writer(f)
        for name in unknown:
            writer.writerow([name, "YC_YH_SANLULI"])
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    assert wh.working(
        "SELECT count(*) FROM ops.quarantine WHERE reason_code = 'unknown_station'")[0][0] == 0
    facts_after = len(wh.published("fct_inspections")) + len(wh.published("fct_disputes")) \
        + len(wh.published("fct_traffic_violations"))
    assert facts_after == facts_before + held[0][0]
