"""The Dagster layer: a failing blocking check stops the downstream asset; a warning does not."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.checks import QUARANTINE_KEY, build_checks, outcomes_path
from pipelines.defs.resources import WarehouseResource
from pipelines.validation import check_specs
from tests.validation.conftest import REPO_ROOT, SUITES, install_manifest

TABLES = ("dim_station", "fct_disputes")


@pytest.fixture
def suites(tmp_path) -> Path:
    """Two of the real suites (a dimension and a fact table) keep the runs short."""
    folder = tmp_path / "suites"
    folder.mkdir()
    for table in TABLES:
        for suffix in (".json", ".batches.yml"):
            shutil.copy(SUITES / f"{table}{suffix}", folder)
    shutil.copy(SUITES / "parameters.yml", folder)
    return folder


@pytest.fixture
def home(db, check_manifest, tmp_path) -> Path:
    """A warehouse home as the dbt step leaves it: the database and dbt's manifest with the
    compiled check models."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.move(db, home / "warehouse.duckdb")
    install_manifest(check_manifest, home)
    return home


def materialize(suites: Path, home: Path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_FRESHNESS_MAX_AGE_DAYS", "1000000")
    ran: list[str] = []

    @dg.multi_asset(specs=[dg.AssetSpec(["marts", t]) for t in TABLES], name="fake_marts")
    def fake_marts():
        for t in TABLES:
            yield dg.MaterializeResult(asset_key=["marts", t])

    @dg.asset(key=QUARANTINE_KEY)  # like the real one: upstream of the checks, not of marts
    def fake_quarantine() -> None:
        return None

    @dg.asset(key=["published", "catalog"], deps=[dg.AssetKey(["marts", t]) for t in TABLES])
    def publish() -> None:
        ran.append("publish")

    result = dg.materialize(
        [fake_marts, fake_quarantine, publish, build_checks(suites)],
        resources={"warehouse": WarehouseResource(raw_dir=str(home), home=str(home))},
        raise_on_error=False,
    )
    return result, ran


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


def test_passing_checks_let_the_publish_run(suites, home, monkeypatch):
    result, ran = materialize(suites, home, monkeypatch)
    assert result.success and ran == ["publish"]
    evals = evaluations(result)
    assert set(evals) == {(s.table, s.name) for s in check_specs(suites)}
    assert all(e.passed for e in evals.values())
    report = Path(evals[("dim_station", "no_personal_data")].metadata["report"].value)
    assert report == home / "reports" / result.run_id / "report.html" and report.exists()
    stored = json.loads((home / "reports" / result.run_id / "checks.json").read_text())
    assert {(o["table"], o["name"]) for o in stored} == set(evals)


def test_a_failing_blocking_check_stops_the_publish(suites, home, monkeypatch):
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute(
            "UPDATE marts.fct_disputes SET follow_up_visits = -1 WHERE dispute_id = 'D0003'"
        )
    result, ran = materialize(suites, home, monkeypatch)
    assert ran == [], "the publish ran although a blocking check failed"
    failed = evaluations(result)[("fct_disputes", "counts_non_negative")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["observed"].value["follow_up_visits >= 0"] == {"unexpected": 1, "of": 30}
    assert failed.metadata["expected"].value["follow_up_visits >= 0"] == {"min_value": 0}
    assert failed.metadata["failing_sample"].value[0]["dispute_key"] == "NB_HS_GULIN:D0003"
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert dg.AssetKey(["published", "catalog"]) not in materialized
    outcomes = json.loads(
        outcomes_path(
            WarehouseResource(raw_dir=str(home), home=str(home)), result.run_id
        ).read_text()
    )
    assert [o["name"] for o in outcomes if o["blocking"] and not o["passed"]] == [
        "counts_non_negative"
    ]


def test_a_warning_does_not_stop_the_publish(suites, home, monkeypatch):
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute(
            "UPDATE marts.fct_disputes SET resolved_on = reported_on - 3 WHERE dispute_id = 'D0004'"
        )
    result, ran = materialize(suites, home, monkeypatch)
    assert ran == ["publish"]
    warned = evaluations(result)[("fct_disputes", "dates_ordered")]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["failing_sample"].value[0]["dispute_key"] == "NB_HS_GULIN:D0004"


def test_the_ui_declares_warn_only_checks_as_warnings_and_counts_like_the_report(
    suites, home, monkeypatch
):
    """An asset check is declared blocking only when it can stop the publish:
    completeness (a warning in the suites, blocking only past its threshold) is two checks in
    the UI: `completeness` (warning) and `completeness_blocking` (blocking)."""
    from pipelines.validation.report import check_counts

    declared = {
        (spec.asset_key.path[-1], spec.name): spec.blocking
        for spec in build_checks(SUITES).check_specs
    }
    for fact in ("fct_inspections", "fct_disputes", "fct_traffic_violations"):
        assert declared[(fact, "completeness")] is False
        assert declared[(fact, "completeness_blocking")] is True
        assert declared[(fact, "freshness")] is False
        assert declared[(fact, "reconciliation")] is True
    assert declared == {(s.table, s.name): s.blocking for s in check_specs(SUITES)}

    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute(
            "UPDATE marts.fct_disputes SET resolved_on = reported_on - 3 WHERE dispute_id = 'D0004'"
        )
    result, _ran = materialize(suites, home, monkeypatch)
    evals = list(evaluations(result).values())
    stored = json.loads((home / "reports" / result.run_id / "checks.json").read_text())
    ui = check_counts(
        {"passed": e.passed, "blocking": e.severity == dg.AssetCheckSeverity.ERROR} for e in evals
    )
    assert ui == check_counts(stored) and ui["warnings"] == 1 and ui["blocking"] == 0
    warned = evaluations(result)[("fct_disputes", "dates_ordered")]
    assert warned.metadata["severity"].value == "warning"
    assert "resolved_on" in warned.metadata["summary"].value


def test_great_expectations_is_imported_in_the_background_for_the_checks_step():
    """The dbt step starts the import of great-expectations (about 1.6 s) in one background
    thread; the checks step waits for it instead of importing it a second time."""
    code = (
        "import sys, threading\n"
        "from pipelines.validation import runner\n"
        "assert 'great_expectations' not in sys.modules\n"
        "runner.preload_great_expectations(); runner.preload_great_expectations()\n"
        "names = [t.name for t in threading.enumerate()]\n"
        "assert names.count('preload-ge') in (0, 1), names\n"
        "assert runner._preload is not None\n"
        "runner._GreatExpectations(10)\n"
        "assert not runner._preload.is_alive()\n"
        "assert 'great_expectations' in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr
