"""The foundation: definitions load, the job runs on the committed sample and publishes, and a
second run on the same input changes no published figure."""

from __future__ import annotations

import json
import shutil

import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory, repo_root):
    tmp = tmp_path_factory.mktemp("sample")
    raw = tmp / "raw"
    shutil.copytree(repo_root / "raw", raw)
    return make_warehouse(tmp, raw)


def test_definitions_load_with_every_piece(sample_warehouse):
    from pipelines.definitions import build_defs

    defs = build_defs(sample_warehouse.settings())
    job = defs.resolve_job_def("nightly_refresh")
    assert job is not None
    assert defs.resolve_schedule_def("nightly_refresh_schedule").job_name == "nightly_refresh"
    assert defs.resolve_sensor_def("raw_files_sensor") is not None
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    for key in (
        "landing/inspections",
        "landing/disputes",
        "landing/traffic",
        "ops/file_ledger",
        "ops/quarantine",
        "marts/fct_inspections",
        "marts/mart_campaign_inspections",
        "published/catalog",
    ):
        assert key in keys, key
    # the check models are ephemeral: compiled for the suites, never assets of their own
    assert not [k for k in keys if k.split("/")[-1].startswith("check_")]
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key.to_user_string() == "marts/fct_inspections" for c in checks)


def test_sample_run_publishes_then_rerun_changes_nothing(sample_warehouse):
    wh = sample_warehouse
    result, summary, ok = wh.run()
    assert result.success, summary
    assert ok, summary
    assert "published: version" in summary
    first = {
        t: wh.published(t)
        for t in (
            "mart_campaign_inspections",
            "mart_campaign_disputes",
            "mart_campaign_traffic",
            "fct_inspections",
        )
    }
    assert all(first.values()), "the sample should publish rows in every campaign mart"

    # conservation over the ledger: every row read is landed or quarantined
    bad = wh.working(
        "SELECT path FROM ops.file_ledger WHERE rows_read <> rows_landed + rows_quarantined"
    )
    assert bad == []

    result, summary, ok = wh.run()
    assert result.success and ok, summary
    landed_again = wh.working(
        f"SELECT count(*) FROM ops.file_ledger WHERE run_id = '{result.run_id}' "
        "AND status = 'loaded'"
    )[0][0]
    assert landed_again == 0
    assert {t: wh.published(t) for t in first} == first


def test_failed_blocking_check_publishes_nothing_and_is_named(
    sample_warehouse, tmp_path, repo_root
):
    """New exports arrive, but a blocking check fails: published/ stays byte-identical."""
    wh = sample_warehouse
    if not (wh.home / "published" / "latest.json").exists():
        result, summary, ok = wh.run()
        assert result.success and ok, summary
    before = wh.published_tree_digest()

    # new exports that would change the published figures
    extra = tmp_path / "extra"
    generate_corpus(extra, stations=2, days=2, seed=23)
    shutil.copytree(extra / "traffic", wh.raw / "traffic" / "late_arrivals")

    # a suite copy whose expectation no row meets: hazards found at least a billion
    suites = tmp_path / "expectations"
    shutil.copytree(repo_root / "expectations", suites)
    path = suites / "fct_inspections.json"
    suite = json.loads(path.read_text())
    counts = next(
        e
        for e in suite["expectations"]
        if e["meta"]["check"] == "counts_non_negative" and e["kwargs"]["column"] == "hazards_found"
    )
    counts["kwargs"]["min_value"] = 10**9
    path.write_text(json.dumps(suite, ensure_ascii=False))

    wh.extra_env["WAREHOUSE_EXPECTATIONS_DIR"] = str(suites)
    try:
        result, summary, ok = wh.run()
    finally:
        del wh.extra_env["WAREHOUSE_EXPECTATIONS_DIR"]
    assert not ok and not result.success
    assert "FAILED CHECK marts/fct_inspections:counts_non_negative (blocking): " in summary, summary
    assert "published: NOTHING this run" in summary, summary
    assert wh.published_tree_digest() == before
    # the new files did land: the next good run publishes them
    landed = wh.working(
        f"SELECT count(*) FROM ops.file_ledger WHERE run_id = "
        f"'{result.run_id}' AND status = 'loaded'"
    )[0][0]
    assert landed > 0
