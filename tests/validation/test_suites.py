"""The suites evaluate real data: valid data passes, each specific break fails its named check,
through the SQL dbt compiled from the check models (dbt_project/models/checks)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.settings import CHECK_THRESHOLD_ENV, load_settings
from pipelines.validation import (
    check_specs,
    load_suites,
    row_watermarks,
    run_checks,
    write_report,
)
from pipelines.validation.compiled import CHECKS_TARGET, load_compiled, read_manifest
from pipelines.validation.suites import SuiteError, dump_json, load_suite
from tests.validation.conftest import (
    COMPILE_ENV,
    PROJECT_DIR,
    QUIET,
    SUITES,
    without_compiled_sql,
)

pytestmark = pytest.mark.unit

PUBLISHED = {
    "mart_reporting_coverage",
    "mart_reporting_coverage_rollup",
    "file_ledger",
    "quarantine",
    "unknown_values",
    "station_scorecard",
    "dim_station",
    "dim_campaign",
    "dim_venue_type",
    "dim_violation_type",
    "fct_inspections",
    "fct_disputes",
    "fct_traffic_violations",
    "mart_station_daily",
    "mart_campaign_inspections",
    "mart_campaign_disputes",
    "mart_campaign_traffic",
}


# the checks of model integrity live in dbt (tests, contracts); none of them is in a suite
DBT_KINDS = {
    "schema_contract",
    "keys_unique_not_null",
    "codes_in_dimension",
    "hierarchy_complete",
    "canonical_codes_present",
}


def run(path: Path, compiled, tables=None, validated_through=None, **env: str):
    with duckdb.connect(str(path), read_only=True) as conn:
        outcomes = run_checks(
            conn,
            SUITES,
            compiled,
            thresholds={**QUIET, **env},
            tables=tables,
            validated_through=validated_through,
        )
    return {(o.table, o.name): o for o in outcomes}


def break_db(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as conn:
        for statement in statements:
            conn.execute(statement)


def failed(outcomes) -> set[tuple[str, str]]:
    return {key for key, o in outcomes.items() if not o.passed}


def test_suite_files_are_canonical_and_cover_every_published_table(compiled):
    suites = load_suites(SUITES)
    assert {s.table for s in suites} == PUBLISHED
    for suite in suites:
        text = suite.path.read_text(encoding="utf-8")
        assert text == dump_json(json.loads(text)), f"{suite.path.name} is not canonical"
        assert '"id"' not in text
        names = {spec.name for spec in suite.specs()}
        assert "no_personal_data" in names, suite.table
        assert not names & DBT_KINDS, (suite.table, names & DBT_KINDS)
        # every batch is a dbt check model (or the screen): no SQL in expectations/
        batches = suite.path.with_name(f"{suite.table}.batches.yml").read_text(encoding="utf-8")
        assert "select" not in batches.lower(), suite.table
        for model in suite.models:
            assert compiled.sql(model).strip(), model
        assert suite.table in compiled.relations
    specs = {(s.table, s.name): s for s in check_specs(SUITES)}
    for fact in ("fct_inspections", "fct_disputes", "fct_traffic_violations"):
        assert specs[(fact, "reconciliation")].blocking
        # completeness mixes severities in its suite: a warning part and a blocking part
        assert not specs[(fact, "completeness")].blocking
        assert specs[(fact, "completeness_blocking")].blocking
        assert specs[(fact, "completeness_blocking")].suite_check == "completeness"
        assert not specs[(fact, "volume_vs_trailing_median")].blocking
        assert not specs[(fact, "freshness")].blocking
    # every check model is read by a suite
    used = {m for suite in suites for m in suite.models}
    assert used == set(compiled.checks)


def test_thresholds_are_read_through_the_settings(monkeypatch):
    spec = yaml.safe_load((SUITES / "parameters.yml").read_text(encoding="utf-8"))
    assert sorted(entry["env"] for entry in spec.values()) == sorted(CHECK_THRESHOLD_ENV)
    monkeypatch.setenv("WAREHOUSE_VOLUME_MAX_RATIO", " 3.5 ")
    monkeypatch.setenv("WAREHOUSE_VALIDATION_BATCH_ROWS", "7")
    monkeypatch.setenv("WAREHOUSE_VALIDATION_FULL", "1")
    monkeypatch.delenv("WAREHOUSE_VOLUME_MIN_RATIO", raising=False)
    settings = load_settings()
    assert settings.check_thresholds.get("WAREHOUSE_VOLUME_MAX_RATIO") == "3.5"
    assert "WAREHOUSE_VOLUME_MIN_RATIO" not in settings.check_thresholds
    assert settings.validation_batch_rows == 7 and settings.validation_full


def test_valid_warehouse_passes_every_check_on_non_empty_batches(db, compiled, tmp_path):
    outcomes = run(db, compiled)
    assert failed(outcomes) == set(), {
        k: o.as_metadata() for k, o in outcomes.items() if not o.passed
    }
    assert len(outcomes) == len(check_specs(SUITES))
    # the batches held data: GE counted the rows it evaluated
    counts = outcomes[("fct_inspections", "counts_non_negative")].observed
    assert counts["hazards_found >= 0"] == {"unexpected": 0, "of": 60}
    recon = outcomes[("fct_inspections", "reconciliation")].observed
    assert recon["fact rows = landed records - rejected records"]["batch"] == {
        "landed_rows": 121,
        "staged_rows": 121,
        "ledger_rows": 121,
        "staged_rows_all": 121,
        "ledger_rows_all": 121,
        "landed_records": 61,
        "rejected_records": 1,
        "expected_fact_rows": 60,
        "fact_rows": 60,
    }
    mart = outcomes[("mart_campaign_inspections", "reconciliation")].observed
    assert mart["every row matches"]["of"] == 4 * 9  # levels x (reconciled metrics + rows)
    rates = outcomes[("mart_station_daily", "rates_match_counts")].observed
    assert rates["rates equal numerator / denominator"]["batch"] == {
        "rates_compared": 3 * 30,
        "rates_mismatched": 0,
    }
    # the report lists every check and is JSON-able metadata throughout
    report = write_report(list(outcomes.values()), tmp_path / "reports", "run-1")
    assert report == tmp_path / "reports" / "run-1" / "report.html"
    html = report.read_text(encoding="utf-8")
    assert html.count("<h3 ") == len(outcomes) and "all blocking checks passed" in html
    json.dumps([o.as_metadata() for o in outcomes.values()])


def test_freshness_warns_on_historical_data_without_blocking(db, compiled):
    outcome = run(db, compiled, tables=["fct_inspections"], WAREHOUSE_FRESHNESS_MAX_AGE_DAYS="2")[
        ("fct_inspections", "freshness")
    ]
    assert not outcome.passed and not outcome.blocking
    meta = outcome.as_metadata()
    assert meta["observed"]["newest data date age in days"]["batch"]["newest_day"] == "2022-07-10"
    assert meta["expected"]["newest data date age in days"] == {"max_value": 2}


BREAKS = [
    pytest.param(
        ["UPDATE marts.fct_disputes SET follow_up_visits = -1 WHERE dispute_id = 'D0003'"],
        "fct_disputes",
        "counts_non_negative",
        "follow_up_visits >= 0",
        {"unexpected": 1, "of": 30},
        {"dispute_key": "NB_HS_GULIN:D0003"},
        set(),
        id="negative count",
    ),
    pytest.param(
        [
            "UPDATE marts.mart_campaign_disputes SET resolution_rate = 1.5 "
            "WHERE level = 'city' AND unit_name = '运城市' AND source_code = 'ALL'"
        ],
        "mart_campaign_disputes",
        "rates_in_unit_interval",
        "resolution_rate in [0, 1]",
        {"unexpected": 1, "of": 50},
        {"unit_name": "运城市", "resolution_rate": 1.5},
        {"rates_match_counts"},
        id="rate 1.5",
    ),
    pytest.param(
        [
            "UPDATE marts.mart_campaign_disputes SET disputes_resolved = disputes_found + 1 "
            "WHERE level = 'province' AND unit_name = '浙江省' AND source_code = 'ALL'"
        ],
        "mart_campaign_disputes",
        "of_which_le_total",
        "disputes_resolved <= disputes_found",
        {"unexpected": 1, "of": 50},
        {"unit_name": "浙江省", "source_code": "ALL"},
        {"rates_match_counts", "reconciliation"},
        id="resolved > found",
    ),
    pytest.param(
        # 866667 / 2000000 = 0.4333335 rounds half up to 0.433334; 0.433333 is within the
        # 0.0000005 the suites allowed before, not what rate() gives (the counts no longer
        # reconcile with the facts either)
        [
            "UPDATE marts.mart_campaign_inspections SET hazards_rectified = 866667, "
            "hazards_found = 2000000, rectification_rate = 0.433333 "
            "WHERE level = 'province' AND unit_name = '浙江省' AND venue_type_code = 'ALL'"
        ],
        "mart_campaign_inspections",
        "rates_match_counts",
        "rates equal numerator / denominator",
        1,
        {"rate": "rectification_rate", "unit_name": "浙江省", "expected": 0.433334},
        {"reconciliation"},
        id="rate rounded down",
    ),
    pytest.param(
        # a rate where the denominator is 0 must be NULL (what dbt's rate_matches tested)
        [
            "UPDATE marts.mart_station_daily SET mediation_success_rate = 0 "
            "WHERE station_id = 'NB_HS_GULIN' AND day = DATE '2022-07-03'"
        ],
        "mart_station_daily",
        "rates_match_counts",
        "rates equal numerator / denominator",
        1,
        {"rate": "mediation_success_rate", "station_id": "NB_HS_GULIN", "denominator": 0},
        set(),
        id="rate without denominator",
    ),
    pytest.param(
        [
            "UPDATE marts.mart_campaign_inspections SET hazards_found = hazards_found + 7 "
            "WHERE level = 'bureau' AND unit_name = '慈溪市公安局' AND venue_type_code = 'ALL'"
        ],
        "mart_campaign_inspections",
        "reconciliation",
        "every row matches",
        {"unexpected": 1, "of": 36},
        {"level": "bureau", "unit_name": "慈溪市公安局", "metric": "hazards_found"},
        {"rates_match_counts"},
        id="mart total != fact sum",
    ),
    pytest.param(
        # a row no fact row stands behind, all its figures 0: only its presence tells
        [
            "INSERT INTO marts.mart_campaign_traffic (campaign_id, level, unit_name, "
            "violation_code, violations, fines_yuan) VALUES ('NO_FACTS', 'city', '宁波市', 'ALL', "
            "0, 0)"
        ],
        "mart_campaign_traffic",
        "reconciliation",
        "every row matches",
        {"unexpected": 1},
        {"campaign_id": "NO_FACTS", "metric": "row_present", "mart_value": 1, "fact_value": 0},
        set(),
        id="mart row without facts",
    ),
    pytest.param(
        # the calendar's last day, where the facts' range ends (a timestamp column)
        [
            "DELETE FROM marts.fct_traffic_violations WHERE ticket_key = (SELECT arg_max("
            "ticket_key, occurred_at) FROM marts.fct_traffic_violations WHERE occurred_at::DATE "
            "<= (SELECT max(day) FROM marts.mart_reporting_coverage))"
        ],
        "mart_reporting_coverage",
        "reconciliation",
        "records = fact rows",
        1,
        {"record_type": "traffic", "day": "2022-07-10"},
        set(),
        id="coverage day without its fact",
    ),
    pytest.param(
        ["DELETE FROM marts.fct_traffic_violations WHERE ticket_id = 'T0005'"],
        "fct_traffic_violations",
        "reconciliation",
        "fact rows = landed records - rejected records",
        None,
        {"ticket_key": "NB_HS_GULIN:T0005"},
        {"volume_vs_trailing_median"},
        id="fact row lost",
    ),
    pytest.param(
        [
            "UPDATE marts.fct_traffic_violations SET road = '人民路 车主电话13812345678' "
            "WHERE ticket_id = 'T0007'"
        ],
        "fct_traffic_violations",
        "no_personal_data",
        "no value with personal data",
        1,
        {"column": "road", "rules": "mobile", "value_masked": "人民路 车主电话[手机号]"},
        set(),
        id="phone number in a published text",
    ),
]


@pytest.mark.parametrize(
    ("statements", "table", "check", "label", "observed", "sample_row", "also"), BREAKS
)
def test_a_specific_break_fails_its_named_blocking_check(
    db, compiled, statements, table, check, label, observed, sample_row, also
):
    assert not run(db, compiled, tables=[table])[(table, check)].failed  # passes before
    break_db(db, *statements)
    outcomes = run(db, compiled, tables=[table])
    outcome = outcomes[(table, check)]
    meta = outcome.as_metadata()
    assert not outcome.passed and outcome.blocking and meta["severity"] == "ERROR", meta
    assert label in meta["failed"]
    got = meta["observed"][label]
    if isinstance(got, dict) and "value" in got and "batch" in got:
        got = got["value"]
    if isinstance(observed, dict):
        assert {k: got[k] for k in observed} == observed, got
    elif observed is not None:
        assert got == observed, got
    assert meta["expected"][label] is not None
    assert any(sample_row.items() <= row.items() for row in meta["failing_sample"]), meta[
        "failing_sample"
    ]
    # the other checks of the table pass but those the break also breaks: it is named, not a
    # general failure
    assert failed(outcomes) == {(table, c) for c in {check, *also}}


def test_reconciliation_shows_observed_and_expected_fact_rows(db, compiled):
    break_db(db, "DELETE FROM marts.fct_traffic_violations WHERE ticket_id = 'T0005'")
    meta = run(db, compiled, tables=["fct_traffic_violations"])[
        ("fct_traffic_violations", "reconciliation")
    ].as_metadata()
    observed = meta["observed"]["fact rows = landed records - rejected records"]
    assert observed["batch"] == {
        "landed_rows": 61,
        "staged_rows": 61,
        "ledger_rows": 61,
        "staged_rows_all": 61,
        "ledger_rows_all": 61,
        "landed_records": 31,
        "rejected_records": 1,
        "expected_fact_rows": 30,
        "fact_rows": 29,
    }
    assert meta["failing_sample"][0]["problem"].startswith("landed, not rejected, missing")


def test_completeness_warns_then_blocks_past_its_threshold(db, compiled, monkeypatch):
    # station 横河 sends no traffic on the last two days of the window
    break_db(
        db,
        "DELETE FROM marts.fct_traffic_violations WHERE unit_id = 'NB_CX_HENGHE' "
        "AND occurred_at >= TIMESTAMP '2022-07-09'",
        "UPDATE marts.mart_reporting_coverage SET status = 'MISSING', records = 0 "
        "WHERE station_id = 'NB_CX_HENGHE' AND record_type = 'traffic' "
        "AND day >= DATE '2022-07-09'",
    )
    warn = run(db, compiled, tables=["fct_traffic_violations"])[
        ("fct_traffic_violations", "completeness")
    ]
    assert not warn.passed and not warn.blocking
    observed = warn.observed["no missing station-day"]
    assert observed["value"] == 2
    assert observed["batch"]["expected_station_days"] == 21
    assert observed["batch"]["received_station_days"] == 19
    assert {(r["station_name"], r["missing_day"]) for r in warn.failing_sample} == {
        ("横河派出所", "2022-07-09"),
        ("横河派出所", "2022-07-10"),
    }
    assert warn.failed == ["no missing station-day"]
    # past the threshold (set in the environment, read by the settings) the blocking part
    # fails too; the warning part stays a warning
    for name, value in {**QUIET, "WAREHOUSE_COMPLETENESS_BLOCKING_RATIO": "0.05"}.items():
        monkeypatch.setenv(name, value)
    with duckdb.connect(str(db), read_only=True) as conn:
        both = {
            (o.table, o.name): o
            for o in run_checks(
                conn, SUITES, compiled, settings=load_settings(), tables=["fct_traffic_violations"]
            )
        }
    blocked = both[("fct_traffic_violations", "completeness_blocking")]
    assert not blocked.passed and blocked.blocking and blocked.severity == "ERROR"
    assert blocked.expected == {
        "missing share within the blocking threshold": {"min_value": 0, "max_value": 0.05}
    }
    still_warn = both[("fct_traffic_violations", "completeness")]
    assert not still_warn.passed and not still_warn.blocking and still_warn.severity == "WARN"
    # under the default ratio (1.0) the blocking part passes
    assert run(db, compiled, tables=["fct_traffic_violations"])[
        ("fct_traffic_violations", "completeness_blocking")
    ].passed


def test_volume_flags_a_station_day_far_from_its_trailing_median(db, compiled):
    break_db(
        db,
        "INSERT INTO marts.fct_inspections SELECT 'X' || i || inspection_id, * EXCLUDE "
        "(inspection_id, i) FROM marts.fct_inspections, range(3) r(i) "
        "WHERE station_id = 'YC_YH_BEICHENG' AND inspected_on = DATE '2022-07-10'",
    )
    outcome = run(db, compiled, tables=["fct_inspections"])[
        ("fct_inspections", "volume_vs_trailing_median")
    ]
    assert not outcome.passed and not outcome.blocking
    assert outcome.failing_sample[0]["station_id"] == "YC_YH_BEICHENG"
    assert outcome.failing_sample[0]["ratio"] == 4.0


def test_volume_of_timestamped_facts_counts_the_window_by_day(db, compiled):
    """Traffic facts carry a TIMESTAMP: the check counts only the window's days (a range on the
    timestamp), each row on its own day. The last day's rows of one unit, four times over,
    are flagged at exactly 4x; a far older day tripled changes nothing."""
    with duckdb.connect(str(db), read_only=True) as conn:
        unit, day, n = conn.execute(
            "SELECT unit_id, occurred_at::DATE, count(*) FROM marts.fct_traffic_violations "
            "WHERE occurred_at::DATE = (SELECT max(occurred_at)::DATE "
            "FROM marts.fct_traffic_violations) GROUP BY ALL ORDER BY 3 DESC, 1 LIMIT 1"
        ).fetchone()
        first = conn.execute("SELECT min(occurred_at) FROM marts.fct_traffic_violations").fetchone()
    copies = "SELECT * REPLACE ('X' || i || ticket_key AS ticket_key) FROM "
    before = run(db, compiled, tables=["fct_traffic_violations"])[
        ("fct_traffic_violations", "volume_vs_trailing_median")
    ]
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            f"INSERT INTO marts.fct_traffic_violations SELECT * EXCLUDE (i) FROM ({copies}"
            "marts.fct_traffic_violations, range(3) r(i) WHERE occurred_at = ?)",
            [first[0]],
        )
    assert (
        run(db, compiled, tables=["fct_traffic_violations"])[
            ("fct_traffic_violations", "volume_vs_trailing_median")
        ].observed
        == before.observed
    )  # outside the window: not read
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            f"INSERT INTO marts.fct_traffic_violations SELECT * EXCLUDE (i) FROM ({copies}"
            "marts.fct_traffic_violations, range(3) r(i) "
            "WHERE unit_id = ? AND occurred_at::DATE = ?)",
            [unit, day],
        )
    outcome = run(db, compiled, tables=["fct_traffic_violations"])[
        ("fct_traffic_violations", "volume_vs_trailing_median")
    ]
    assert not outcome.passed
    flagged = {(r["station_id"], r["day"]): r for r in outcome.failing_sample}
    assert flagged[(unit, str(day))]["rows_that_day"] == 4 * n


def test_a_missing_table_fails_with_the_error_not_an_exception(db, compiled):
    break_db(db, "DROP TABLE marts.mart_campaign_traffic")
    outcomes = run(db, compiled, tables=["mart_campaign_traffic"])
    assert all(not o.passed and o.blocking for o in outcomes.values())
    assert any("mart_campaign_traffic" in e for o in outcomes.values() for e in o.errors)


@pytest.mark.dbt_cli
def test_the_runner_runs_the_sql_dbt_compiled(db, check_manifest, tmp_path):
    """The suites' SQL is the check models': change one in a copy of the dbt project and the
    check sees the change. The warehouse's last manifest lacks compiled SQL (as `dbt parse`
    leaves it), so the check models are compiled alone beside it, the manifest untouched."""
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "checks" / "check_fct_inspections__key_conflicts.sql").write_text(
        "select held_back_records + 7 as held_back_records\n"
        "from ({{ check_key_conflicts('inspections') }})\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    target = home / "dbt" / "target"
    parsed = without_compiled_sql(check_manifest, target / "manifest.json")
    before = parsed.read_bytes()
    compiled = load_compiled(target, project, env={**COMPILE_ENV, "WAREHOUSE_HOME": str(home)})
    assert compiled.manifest == home / "dbt" / CHECKS_TARGET / "manifest.json"
    assert compiled.complete and parsed.read_bytes() == before
    outcome = run(db, compiled, tables=["fct_inspections"])[("fct_inspections", "key_conflicts")]
    assert not outcome.passed and not outcome.blocking
    assert outcome.observed["no record held back as a key conflict"]["value"] == 7
    # without a project to compile, a check whose SQL was not compiled fails: never passes
    incomplete = read_manifest(parsed)
    assert not incomplete.complete
    assert load_compiled(target) == incomplete
    outcomes = run(db, incomplete, tables=["fct_inspections"])
    reconciliation = outcomes[("fct_inspections", "reconciliation")]
    assert not reconciliation.passed and reconciliation.blocking
    assert any("not compiled" in e for e in reconciliation.errors)
    # row-level expectations read the table's relation, named by the manifest: they still run
    assert outcomes[("fct_inspections", "counts_non_negative")].passed


def copy_suite(into: Path, table: str = "fct_inspections") -> Path:
    """The suite of `table` copied into `into`; returns its batches file."""
    for name in (f"{table}.json", f"{table}.batches.yml"):
        shutil.copy(SUITES / name, into / name)
    return into / f"{table}.batches.yml"


def test_a_batches_file_with_sql_is_refused(tmp_path):
    path = copy_suite(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert load_suite(tmp_path / "fct_inspections.json").batches["freshness"].model
    path.write_text(
        text.replace("model: check_fct_inspections__freshness", "sql: SELECT 1 AS age_days"),
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="dbt check models"):
        load_suite(tmp_path / "fct_inspections.json")
    path.write_text(text + "rows: SELECT * FROM marts.fct_inspections\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="dbt check models"):
        load_suite(tmp_path / "fct_inspections.json")


def test_a_since_model_needs_the_rows_stamp(tmp_path):
    path = copy_suite(tmp_path)
    suite = load_suite(tmp_path / "fct_inspections.json")
    assert suite.batches["fact_rows"].since == "check_fct_inspections__fact_rows__since"
    assert "check_fct_inspections__fact_rows__since" in suite.models
    path.write_text(
        path.read_text(encoding="utf-8").replace("rows_since: _resolved_at\n", ""),
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="since model but no rows_since"):
        load_suite(tmp_path / "fct_inspections.json")


def test_rows_are_streamed_in_bounded_record_batches(db, compiled):
    """Row-level results add up over batches: the same counts with 7-row batches."""
    break_db(
        db,
        "UPDATE marts.fct_inspections SET hazards_rectified = hazards_found + 1 "
        "WHERE inspection_id IN ('I0001', 'I0102', 'I0209')",
    )
    with duckdb.connect(str(db), read_only=True) as conn:
        outcomes = run_checks(
            conn,
            SUITES,
            compiled,
            thresholds=QUIET,
            tables=["fct_inspections"],
            batch_rows=7,
            sample_rows=20,
        )
    outcome = next(o for o in outcomes if o.name == "of_which_le_total")
    assert outcome.observed["hazards_rectified <= hazards_found"] == {"unexpected": 3, "of": 60}
    assert sorted(r["inspection_key"].split(":")[1] for r in outcome.failing_sample) == [
        "I0001",
        "I0102",
        "I0209",
    ]


def test_the_ge_context_is_ephemeral_and_writes_nothing(db, compiled, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(work))
    monkeypatch.delenv("GX_ANALYTICS_ENABLED", raising=False)
    outcomes = run(db, compiled, tables=["dim_station"])
    assert outcomes and all(o.passed for o in outcomes.values())
    assert list(work.rglob("*")) == []
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"


def test_row_checks_read_only_rows_stamped_after_the_validated_watermark(db, compiled):
    """With validated_through, row-level expectations skip rows validated before; aggregate
    checks and a run without it still read everything."""
    break_db(
        db,
        "UPDATE marts.fct_inspections SET _resolved_at = TIMESTAMP '2026-01-01'",
        # an old row broken in place (the models never do this: it proves it is not read)
        "UPDATE marts.fct_inspections SET hazards_rectified = hazards_found + 1 "
        "WHERE inspection_id = 'I0001'",
        # a row (re)written since the watermark, broken
        "UPDATE marts.fct_inspections SET hazards_rectified = hazards_found + 1, "
        "_resolved_at = TIMESTAMP '2026-02-01 08:00:00.5' WHERE inspection_id = 'I0102'",
    )
    since = {"column": "_resolved_at", "value": "2026-01-01 00:00:00", "type": "TIMESTAMP"}
    with duckdb.connect(str(db), read_only=True) as conn:
        marks = row_watermarks(conn, SUITES, compiled)
        partial = run_checks(
            conn,
            SUITES,
            compiled,
            thresholds=QUIET,
            tables=["fct_inspections"],
            validated_through={"fct_inspections": since},
        )
        other_column = run_checks(
            conn,
            SUITES,
            compiled,
            thresholds=QUIET,
            tables=["fct_inspections"],
            validated_through={"fct_inspections": {**since, "column": "x"}},
        )
        full = run_checks(conn, SUITES, compiled, thresholds=QUIET, tables=["fct_inspections"])
    assert marks["fct_inspections"] == {
        "column": "_resolved_at",
        "value": "2026-02-01 08:00:00.5",
        "type": "TIMESTAMP",
    }
    label = "hazards_rectified <= hazards_found"
    check = next(o for o in partial if o.name == "of_which_le_total")
    assert check.observed[label] == {"unexpected": 1, "of": 1}
    assert [r["inspection_key"] for r in check.failing_sample] == ["NB_CX_HENGHE:I0102"]
    assert check.rows_scope == "rows with _resolved_at > 2026-01-01 00:00:00"
    for outcomes in (full, other_column):
        check = next(o for o in outcomes if o.name == "of_which_le_total")
        assert check.observed[label] == {"unexpected": 2, "of": 60}
        assert check.rows_scope == "all rows"
    # the reconciliation reads its since model (test below); other aggregate checks read all
    scopes = {o.name: o.rows_scope for o in partial}
    assert scopes["reconciliation"] == "aggregate of what changed since 2026-01-01 00:00:00"
    assert scopes["completeness"] == scopes["volume_vs_trailing_median"] == "aggregate"
    assert {o.name: o.rows_scope for o in full}["reconciliation"] == "aggregate"


def reconciliation_check(db: Path, compiled, table: str, validated_through=None):
    """The outcome of `table`'s reconciliation check, validated through a stamp or whole."""
    return run(db, compiled, [table], validated_through)[(table, "reconciliation")]


def restage(number: str, stamp: str = "2026-01-02") -> tuple[str, ...]:
    """A new export of traffic ticket `number` landed and staged at `stamp`: a file version of
    its own (ledger, landing, stg_traffic), as landing and the stg_ model write one."""
    version, path = f"traffic-{number}", f"traffic/{number}.csv"
    return (
        "INSERT INTO ops.file_ledger (file_version_id, record_type, path, sha256, status, "
        f"first_seen_at, rows_landed) VALUES ('{version}', 'traffic', '{path}', '{number}', "
        f"'loaded', TIMESTAMP '{stamp}', 1)",
        "INSERT INTO landing.traffic SELECT * REPLACE ("
        f"'{number}' AS _file_sha256, '{path}' AS _source_path, "
        f"TIMESTAMP '{stamp}' AS _first_seen_at) "
        f"FROM landing.traffic WHERE ticket_id = '{number}' AND _file_sha256 = 'new'",
        "INSERT INTO staging.stg_traffic SELECT * REPLACE ("
        f"TIMESTAMP '{stamp}' AS _staged_at, '{version}' AS _file_version_id) "
        f"FROM staging.stg_traffic WHERE ticket_id = '{number}' "
        "AND _file_version_id = 'traffic-new'",
    )


def test_a_nights_reconciliation_reads_the_numbers_changed_since_the_validated_run(db, compiled):
    """Given the validated stamp, the facts' reconciliation counts only the record numbers
    restaged (_staged_at) or resolved again (_resolved_at) since, and every rejected number: a
    record lost among them fails it as the whole-table check does. Records outside them are
    what the validated run reconciled; the models rewrite no record without restaging or
    re-resolving its number, so only a planted break can change one (the whole check sees
    it)."""
    validated = "2026-01-01 00:00:00"
    break_db(
        db,
        f"UPDATE marts.fct_traffic_violations SET _resolved_at = TIMESTAMP '{validated}'",
        # tonight: T0005 restaged (a new export) and lost by the models; T0006 resolved again
        *restage("T0005"),
        "DELETE FROM marts.fct_traffic_violations WHERE ticket_id = 'T0005'",
        "UPDATE marts.fct_traffic_violations SET _resolved_at = TIMESTAMP '2026-01-02' "
        "WHERE ticket_id = 'T0006'",
    )
    since = {
        "fct_traffic_violations": {
            "column": "_resolved_at",
            "value": validated,
            "type": "TIMESTAMP",
        }
    }
    reconciliation = functools.partial(reconciliation_check, db, compiled, "fct_traffic_violations")

    label = "fact rows = landed records - rejected records"
    night = reconciliation(since)
    assert not night.passed and night.blocking
    assert night.observed[label]["batch"] == {
        "landed_rows": 1,  # of the versions restaged since: T0005's new export
        "staged_rows": 1,
        "ledger_rows": 1,
        "staged_rows_all": 62,  # every loaded version
        "ledger_rows_all": 62,
        "landed_records": 3,  # T0005, T0006 and the rejected record
        "rejected_records": 1,
        "expected_fact_rows": 2,
        "fact_rows": 1,
        "numbers_checked": 3,
    }
    assert night.rows_scope == f"aggregate of what changed since {validated}"
    assert night.failing_sample[0]["problem"].startswith("landed, not rejected, missing")
    whole = reconciliation()
    assert not whole.passed and whole.observed[label]["batch"]["fact_rows"] == 29

    # a record lost outside tonight's numbers: not the models' doing, seen by the whole check
    break_db(
        db,
        "INSERT INTO marts.fct_traffic_violations SELECT * REPLACE ("
        "replace(ticket_key, 'T0006', 'T0005') AS ticket_key, 'T0005' AS ticket_id) "
        "FROM marts.fct_traffic_violations WHERE ticket_id = 'T0006'",
        "DELETE FROM marts.fct_traffic_violations WHERE ticket_id = 'T0007'",
    )
    assert reconciliation(since).passed
    assert not reconciliation().passed

    # a number restaged tonight whose fact the models did not resolve again: a stale fact,
    # missing from the facts resolved since (counting every fact of the number would pass)
    break_db(db, *restage("T0008"))
    stale = reconciliation(since).observed[label]["batch"]
    assert (stale["numbers_checked"], stale["expected_fact_rows"], stale["fact_rows"]) == (4, 3, 2)


ROW_LABELS = (
    "staged rows = landed rows of loaded versions",
    "the ledger's rows landed = landed rows of loaded versions",
    "staged rows = the ledger's rows landed, every loaded version",
)


@pytest.mark.parametrize(
    ("breaks", "night_fails", "night_passes"),
    [
        ((), (), ROW_LABELS),
        (  # staging dropped tonight's row from the current ones
            (
                "UPDATE staging.stg_traffic SET _is_current = false "
                "WHERE _file_version_id = 'traffic-T0005'",
            ),
            (ROW_LABELS[0], ROW_LABELS[2]),
            (ROW_LABELS[1],),
        ),
        (  # the ledger miscounts tonight's version
            ("UPDATE ops.file_ledger SET rows_landed = 2 WHERE file_version_id = 'traffic-T0005'",),
            (ROW_LABELS[1], ROW_LABELS[2]),
            (ROW_LABELS[0],),
        ),
        (  # staging lost a row of a version nobody restaged tonight: the whole count sees it
            (
                "DELETE FROM staging.stg_traffic "
                "WHERE ticket_id = 'T0007' AND _file_version_id = 'traffic-old'",
            ),
            (ROW_LABELS[2],),
            ROW_LABELS[:2],
        ),
        (  # landing lost a row of an old version: landing only appends, so not a night's doing
            ("DELETE FROM landing.traffic WHERE ticket_id = 'T0007' AND _file_sha256 = 'old'",),
            (),
            ROW_LABELS,
        ),
    ],
)
def test_a_nights_row_reconciliation_reads_the_versions_restaged_since(
    db, compiled, breaks, night_fails, night_passes
):
    """Given the validated stamp, staged rows = landed rows = the ledger's rows_landed is counted
    over the file versions restaged since (the stg_ models restage every row of a version
    together), and staged rows = the ledger's rows over every loaded version. Whatever a break
    does, the whole check sees it."""
    validated = "2026-01-01 00:00:00"
    break_db(
        db,
        f"UPDATE marts.fct_traffic_violations SET _resolved_at = TIMESTAMP '{validated}'",
        *restage("T0005"),
        "UPDATE marts.fct_traffic_violations SET _resolved_at = TIMESTAMP '2026-01-02' "
        "WHERE ticket_id = 'T0005'",
        *breaks,
    )
    stamp = {"column": "_resolved_at", "value": validated, "type": "TIMESTAMP"}
    since = {"fct_traffic_violations": stamp}
    night = reconciliation_check(db, compiled, "fct_traffic_violations", since)
    assert set(night.failed) == set(night_fails)
    assert not set(night.failed) & set(night_passes)
    assert night.observed[ROW_LABELS[0]]["batch"]["landed_rows"] == 1  # tonight's version only
    whole = reconciliation_check(db, compiled, "fct_traffic_violations")
    assert whole.passed == (not breaks)


def test_a_nights_station_daily_reconciliation_reads_the_months_written_since(db, compiled):
    """Given the validated stamp, mart_station_daily's reconciliation compares the months the
    model wrote since (_built_at) with their facts, and every month's fingerprint with the
    one its rows recorded: a month written tonight that disagrees with its facts fails, and so
    do facts that changed in a month the model left alone. A figure changed by hand in a month
    nobody wrote since is what the validated run reconciled: only the whole check sees it."""
    validated = "2026-01-01 00:00:00"
    since = {"mart_station_daily": {"column": "_built_at", "value": validated, "type": "TIMESTAMP"}}
    reconciliation = functools.partial(reconciliation_check, db, compiled, "mart_station_daily")

    night = reconciliation(since)
    assert night.passed and night.rows_scope == f"aggregate of what changed since {validated}"
    assert reconciliation().passed

    # a figure changed in a month nobody wrote since: not the model's doing
    day = "(SELECT min(day) FROM marts.mart_station_daily WHERE traffic_violations > 0)"
    break_db(
        db,
        "UPDATE marts.mart_station_daily SET traffic_violations = traffic_violations + 1 "
        f"WHERE day = {day}",
    )
    assert reconciliation(since).passed
    assert not reconciliation().passed
    # the same month written tonight: reconciled, and the break is seen
    break_db(
        db,
        f"UPDATE marts.mart_station_daily SET _built_at = TIMESTAMP '2026-01-02' "
        f"WHERE _month = (SELECT date_trunc('month', {day})::DATE)",
    )
    night = reconciliation(since)
    assert not night.passed and night.blocking
    assert {r["metric"] for r in night.failing_sample} == {"traffic_violations"}

    # facts that changed in a month the model did not write again: its fingerprint is stale
    break_db(
        db,
        "UPDATE marts.mart_station_daily SET traffic_violations = traffic_violations - 1 "
        f"WHERE day = {day}",
        f"UPDATE marts.mart_station_daily SET _built_at = TIMESTAMP '{validated}'",
        "DELETE FROM marts.fct_inspections WHERE inspection_key = "
        "(SELECT max(inspection_key) FROM marts.fct_inspections)",
    )
    night = reconciliation(since)
    assert not night.passed
    stale = night.observed["every station-day matches"]["rows"]
    assert {"metric": "month_fingerprints", "mismatched_rows": 1} in stale


def test_a_nights_campaign_reconciliation_reads_the_campaigns_written_since(db, compiled):
    """Given the validated stamp, a campaign mart's reconciliation compares the campaigns the
    model wrote since (_built_at) with their facts, and every campaign's fact fingerprint with
    the one its rows recorded (macro campaign_fingerprints)."""
    validated = "2026-01-01 00:00:00"
    since = {
        "mart_campaign_traffic": {"column": "_built_at", "value": validated, "type": "TIMESTAMP"}
    }
    reconciliation = functools.partial(reconciliation_check, db, compiled, "mart_campaign_traffic")

    night = reconciliation(since)
    assert night.passed and night.rows_scope == f"aggregate of what changed since {validated}"
    assert reconciliation().passed

    # a figure changed in a campaign nobody wrote since: not the model's doing
    city_total = "WHERE level = 'city' AND violation_code = 'ALL'"
    break_db(db, f"UPDATE marts.mart_campaign_traffic SET violations = violations + 1 {city_total}")
    assert reconciliation(since).passed
    assert not reconciliation().passed
    # the campaign written tonight: reconciled, and the break is seen
    break_db(db, "UPDATE marts.mart_campaign_traffic SET _built_at = TIMESTAMP '2026-01-02'")
    night = reconciliation(since)
    assert not night.passed and night.blocking
    assert {(r["level"], r["metric"]) for r in night.failing_sample} == {("city", "violations")}

    # facts that changed in a campaign the model did not write again: its fingerprint is stale
    break_db(
        db,
        f"UPDATE marts.mart_campaign_traffic SET violations = violations - 1 {city_total}",
        f"UPDATE marts.mart_campaign_traffic SET _built_at = TIMESTAMP '{validated}'",
        "DELETE FROM marts.fct_traffic_violations WHERE ticket_key = (SELECT max(ticket_key) "
        "FROM marts.fct_traffic_violations WHERE campaign_id IS NOT NULL)",
    )
    night = reconciliation(since)
    assert not night.passed
    rows = night.observed["every row matches"]["rows"]
    assert {"level": "campaign", "metric": "campaign_fingerprints", "mismatched_rows": 1} in rows


def test_batches_are_not_fingerprinted_by_great_expectations(db, compiled, monkeypatch):
    """GE hashes every DataFrame it is handed for a batch marker nobody reads (most of the row
    checks' time at city scale); the runner turns that off. Fails if a GE upgrade moves it."""
    import pandas as pd

    def refuse(*args, **kwargs):
        raise AssertionError("great-expectations fingerprinted a batch")

    monkeypatch.setattr(pd.util, "hash_pandas_object", refuse)
    outcomes = run(db, compiled, tables=["fct_inspections"])
    assert outcomes and all(o.passed and not o.errors for o in outcomes.values()), outcomes
