"""A failing dbt test stops the night before anything is published, and the summary names it.

dbt's tests are no Dagster asset checks (pipelines/defs/dbt.py): the dbt step fails with the
build, and the summary reads the failed test from dbt's run_results.json.
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e


def test_a_failing_dbt_test_fails_the_dbt_step_and_publishes_nothing(tmp_path, repo_root):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        repo_root / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    # a singular dbt test fails with the rows it returns: this one always returns a row
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "every_station_is_a_duplicate.sql").write_text(
        "select station_id from {{ ref('dim_station') }} limit 1\n", encoding="utf-8"
    )
    wh = make_warehouse(tmp_path, repo_root / "raw", WAREHOUSE_DBT_PROJECT_DIR=str(project))

    result, summary, ok = wh.run()

    assert not result.success and not ok, summary
    failed_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    assert "dbt_warehouse" in failed_steps, summary
    assert "FAILED DBT TEST every_station_is_a_duplicate (blocking)" in summary, summary
    assert "dbt tests:" in summary and "1 FAILED" in summary, summary
    assert not (wh.home / "published" / "latest.json").exists(), summary
