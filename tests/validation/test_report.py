"""The HTML report: failures and warnings first, observed values and thresholds
as text, checks counted like the terminal, a landing section, and the coverage-gaps hook."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest

from pipelines.defs.checks import landing_facts
from pipelines.validation.report import (
    check_counts,
    counts_text,
    describe_expected,
    describe_observed,
    render_report,
)
from tests.orchestration.ledger import build_ops
from tests.validation.conftest import QUIET, SUITES
from tests.validation.test_suites import break_db

pytestmark = pytest.mark.unit


def _outcomes(db, compiled, **env):
    from pipelines.validation import run_checks

    with duckdb.connect(str(db), read_only=True) as conn:
        return run_checks(
            conn,
            SUITES,
            compiled,
            thresholds={**QUIET, **env},
            tables=["fct_traffic_violations", "dim_station"],
        )


def test_values_and_thresholds_read_as_text():
    assert describe_expected({"min_value": 0, "max_value": 0}) == "= 0"
    assert describe_expected({"max_value": 2}) == "at most 2"
    assert describe_expected({"min_value": 0, "max_value": 0.05}) == "between 0 and 0.05"
    assert describe_expected({"value_set": ["A", "B"]}) == "one of: A, B"
    assert describe_observed({"unexpected": 3, "of": 12000}) == "3 of 12,000 rows unexpected"
    assert describe_observed({"missing": ["x"], "present": 4}) == "missing: x (4 present)"
    assert (
        describe_observed({"value": 2, "batch": {"expected_station_days": 21}})
        == "2 (expected_station_days 21)"
    )
    assert describe_observed({"value": 2, "batch": {"a": 1}}, brief=True) == "2"


def test_failures_and_warnings_come_first_as_text_with_a_landing_section(db, compiled, tmp_path):
    break_db(
        db,
        "UPDATE marts.dim_station SET station_name = '古林派出所 13812345678' "
        "WHERE station_id = 'NB_HS_GULIN'",  # blocking: personal data
        "DELETE FROM marts.fct_traffic_violations WHERE unit_id = 'NB_CX_HENGHE' "
        "AND occurred_at >= TIMESTAMP '2022-07-09'",  # warning: completeness
        "UPDATE marts.mart_reporting_coverage SET status = 'MISSING', records = 0 "
        "WHERE station_id = 'NB_CX_HENGHE' AND record_type = 'traffic' "
        "AND day >= DATE '2022-07-09'",
    )
    outcomes = _outcomes(db, compiled)
    ops = build_ops(tmp_path / "w.duckdb")
    with duckdb.connect(str(ops), read_only=True) as conn:
        landing = landing_facts(conn, "run-24")
    html = render_report(outcomes, "run-x", landing=landing)
    metas = [o.as_metadata() for o in outcomes]
    counts = check_counts(metas)
    assert counts["blocking"] >= 1 and counts["warnings"] >= 1
    assert counts_text(counts) in html  # the terminal prints the same words
    blocking = html.index("Blocking failures (")
    warnings = html.index("Warnings (")
    landing_at = html.index("id='landing'")
    passed = html.index("Passed checks (")
    personal = html.index("dim_station · no_personal_data")
    completeness = html.index("fct_traffic_violations · completeness <")
    assert blocking < personal < warnings < completeness < landing_at < passed
    section = html[blocking:landing_at]
    # observed and expected as words, not JSON
    assert "no missing station-day</td><td class='WARN'>WARN</td><td>2 (" in section
    assert "<td>= 0</td>" in section
    assert "{&quot;" not in section and '{"' not in section
    # the warning part of completeness is not called blocking anywhere
    assert (
        "fct_traffic_violations · completeness <span class='WARN'>WARN</span> "
        "<span class='muted'>(warning;" in html
    )
    # landing: open failures with reasons, quarantine by reason, no coverage mart yet
    land = html[landing_at:passed]
    assert "Files whose latest version failed (3)" in land
    assert "disputes/b.xlsx" in land and "inspections/a.csv" not in land
    assert "1 earlier failure(s) fixed by a re-export" in land
    assert re.search(r"<td>model</td><td>unknown_station</td><td>3</td><td>3</td>", land)
    assert "marts.mart_reporting_coverage is not built yet" in land


def test_coverage_gaps_hook_reads_the_reporting_coverage_mart(tmp_path):
    ops = build_ops(tmp_path / "w.duckdb")
    with duckdb.connect(str(ops)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute("""CREATE TABLE marts.mart_reporting_coverage AS
            SELECT * FROM (VALUES
              ('S1', '古林派出所', DATE '2026-11-18', 'inspections', 'MISSING'),
              ('S1', '古林派出所', DATE '2026-11-19', 'inspections', 'REPORTED'),
              ('S2', '横河派出所', DATE '2026-11-19', 'traffic', 'LATE'),
              ('S2', '横河派出所', DATE '2026-11-19', 'disputes', 'PARTIAL'),
              ('S3', '北城派出所', DATE '2026-11-19', 'disputes', 'NO_RECORDS'))
              AS t(station_id, station_name, day, record_type, status)""")
    with duckdb.connect(str(ops), read_only=True) as conn:
        landing = landing_facts(conn, "run-24")
    gaps = landing["coverage_gaps"]
    assert gaps["by_status"] == {"MISSING": 1, "LATE": 1, "PARTIAL": 1}
    assert [(r["station_id"], r["status"]) for r in gaps["rows"]] == [
        ("S2", "PARTIAL"),
        ("S2", "LATE"),
        ("S1", "MISSING"),
    ]
    html = render_report([], "run-y", landing=landing)
    assert "Coverage gaps (3: LATE 1, MISSING 1, PARTIAL 1)" in html
    assert "横河派出所" in html and "北城派出所" not in html and "REPORTED" not in html


def test_report_of_a_real_dbt_run_results_file(tmp_path):
    from pipelines.validation.report import dbt_test_results, dbt_tests_text

    path = tmp_path / "run_results.json"
    path.write_text(
        '{"metadata": {"generated_at": "x"}, "results": ['
        '{"unique_id": "test.p.a", "status": "pass"},'
        '{"unique_id": "test.p.b.1f2e3d", "status": "warn", "failures": 2},'
        '{"unique_id": "unit_test.p.m.rates", "status": "pass"},'
        '{"unique_id": "test.p.c.9a8b7c", "status": "skipped"},'
        '{"unique_id": "model.p.stg_x", "status": "error",'
        ' "message": "Runtime Error in model stg_x\\n  Out of Memory"},'
        '{"unique_id": "model.p.m", "status": "success"}]}'
    )
    results = dbt_test_results(path)
    # data tests and unit tests: dbt's tests, counted apart from the suites' checks
    assert dbt_tests_text(results) == (
        "3 dbt tests: 1 passed, 1 warnings, 1 skipped; 1 dbt unit tests: 1 passed"
    )
    # a skipped test is only counted (its model did not build); the model that failed is named
    assert [t["test"] for t in results["not_passed"]] == ["b"]
    assert results["failed_nodes"] == [{"node": "stg_x", "message": "Runtime Error in model stg_x"}]
    shutil.rmtree(tmp_path)
    assert dbt_test_results(path) is None
