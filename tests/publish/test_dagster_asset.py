"""The Dagster asset that calls publish(): publishes when every blocking check passed, and
leaves published/ byte-identical (and says which check) when one failed."""

from __future__ import annotations

import json
import uuid

import dagster as dg

from pipelines.defs import publish as publish_defs
from pipelines.defs.resources import WarehouseResource
from tests.publish.helpers import TABLES, check_consistent, make_source, tree_digest


def run_asset(home, outcomes, monkeypatch, tmp_path):
    monkeypatch.setattr(publish_defs, "published_tables", lambda _suites: TABLES)
    asset = publish_defs.build_publish_asset(tmp_path / "suites", tmp_path / "dbt")
    defs = dg.Definitions(
        assets=[asset],
        jobs=[
            dg.define_asset_job(
                "publish_only",
                selection=[publish_defs.PUBLISHED_KEY],
                executor_def=dg.in_process_executor,
            )
        ],
        resources={
            "warehouse": WarehouseResource(
                raw_dir=str(tmp_path / "raw"), home=str(home), keep_snapshots=3
            )
        },
    )
    run_id = str(uuid.uuid4())
    report = home / "reports" / run_id / "checks.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps(outcomes))
    return defs.resolve_job_def("publish_only").execute_in_process(
        run_id=run_id, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def test_asset_publishes_then_a_failed_blocking_check_changes_nothing(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    make_source(home / "warehouse.duckdb", seed=0)
    ok = [
        {"name": "keys_unique", "blocking": True, "passed": True},
        {"name": "volume", "blocking": False, "passed": False},
    ]
    result = run_asset(home, ok, monkeypatch, tmp_path)
    assert result.success
    [event] = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    published = home / "published"
    assert meta["changed"].value is True and meta["version"].value == check_consistent(published)
    manifest = json.loads(next((published / "snapshots").glob("*/manifest.json")).read_text())
    assert manifest["check_results"] == ok and manifest["run_id"] == result.run_id

    before = tree_digest(published, skip_tmp=False)
    make_source(home / "warehouse.duckdb", seed=1)  # new candidate data, but a check fails
    failed = [{"name": "keys_unique", "blocking": True, "passed": False}]
    result = run_asset(home, failed, monkeypatch, tmp_path)
    assert not result.success
    assert "keys_unique" in str(result.get_step_failure_events()[0].step_failure_data.error)
    assert tree_digest(published, skip_tmp=False) == before


def test_pinned_by_a_rollback_then_released_as_the_summary_tells_it(tmp_path, monkeypatch):
    """After `warehouse rollback` the nightly publish step publishes nothing
    and says BI stays on the pinned version; after `warehouse release` it publishes again; a
    night without new content says there is nothing new to publish."""
    from pipelines.publish import release, rollback
    from pipelines.settings import load_settings
    from pipelines.summary import run_summary, status_report, versions_report

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    monkeypatch.setenv("WAREHOUSE_PII_KEY", "asset-test")
    settings = load_settings()
    ok = [{"name": "keys_unique", "blocking": True, "passed": True}]
    make_source(home / "warehouse.duckdb", seed=0)
    first = run_asset(home, ok, monkeypatch, tmp_path)
    v1 = first.get_asset_materialization_events()[0].materialization.metadata["version"].value
    make_source(home / "warehouse.duckdb", seed=1)
    run_asset(home, ok, monkeypatch, tmp_path)
    published = home / "published"
    assert rollback(published) == v1

    make_source(home / "warehouse.duckdb", seed=2)  # a new night's data
    before = tree_digest(published, skip_tmp=False)
    pinned = run_asset(home, ok, monkeypatch, tmp_path)
    assert pinned.success
    meta = pinned.get_asset_materialization_events()[0].materialization.metadata
    assert (meta["changed"].value, meta["reason"].value, meta["version"].value) == (
        False,
        "pinned",
        v1,
    )
    assert tree_digest(published, skip_tmp=False) == before
    summary, good = run_summary(settings, pinned)
    assert good
    assert (
        f"published: NOTHING this run: BI stays on version {v1}, pinned by a rollback" in summary
    ), summary
    assert "PINNED to version" in status_report(settings)
    versions = versions_report(settings)
    assert f"* {v1} PINNED" in versions and "rollback" in versions, versions

    assert release(published)["version"] == v1
    fresh = run_asset(home, ok, monkeypatch, tmp_path)
    v3 = fresh.get_asset_materialization_events()[0].materialization.metadata["version"].value
    assert v3 != v1
    summary, good = run_summary(settings, fresh)
    assert good and f"published: version {v3} " in summary
    again = run_asset(home, ok, monkeypatch, tmp_path)
    summary, good = run_summary(settings, again)
    assert good and f"published: nothing new to publish; BI still reads version {v3}" in summary
