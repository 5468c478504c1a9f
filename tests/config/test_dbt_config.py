"""How dbt is configured without touching the environment: the project's manifest is made by
dagster-dbt's preparer when it is missing, out of date or cut short; profiles.yml reads the
warehouse's paths from --vars (falling back to the variables for a plain `dbt` command); the
PII plugin takes a real key from WAREHOUSE_PII_KEY and the development key only when told."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

from pipelines.defs.dbt import manifest_out_of_date
from pipelines.pii import MissingPiiKeyError, Plugin, keyed_hash
from pipelines.settings import DEV_PII_KEY

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]


def small_project(tmp_path: Path) -> DbtProject:
    project_dir = tmp_path / "project"
    (project_dir / "models").mkdir(parents=True)
    (project_dir / "dbt_project.yml").write_text("name: small\nprofile: small\n")
    (project_dir / "profiles.yml").write_text("small: {}\n")
    (project_dir / "models" / "a.sql").write_text("select 1 as a\n")
    return DbtProject(project_dir=project_dir, target_path=tmp_path / "target")


def test_the_manifest_is_made_again_only_when_missing_stale_or_cut_short(tmp_path):
    project = small_project(tmp_path)
    assert project.manifest_path == tmp_path / "target" / "manifest.json"
    assert manifest_out_of_date(project)  # a fresh clone: none yet

    project.manifest_path.parent.mkdir()
    whole = json.dumps({"nodes": {"model.small.a": {}}})
    project.manifest_path.write_text(whole)
    assert not manifest_out_of_date(project)

    model = project.project_dir / "models" / "a.sql"
    later = project.manifest_path.stat().st_mtime + 5
    os.utime(model, (later, later))  # a model edited after the parse
    assert manifest_out_of_date(project)
    os.utime(project.manifest_path, (later + 5, later + 5))
    assert not manifest_out_of_date(project)

    partial = project.manifest_path.parent / "partial_parse.msgpack"
    partial.write_bytes(b"\x93cut")
    project.manifest_path.write_text(whole[: len(whole) // 2])  # what a full disk left
    os.utime(project.manifest_path, (later + 5, later + 5))  # as new as before
    assert manifest_out_of_date(project)
    assert not partial.exists()  # written by the same run: not trusted either


def test_profile_reads_the_warehouse_from_vars_and_falls_back_to_the_variables(
    tmp_path, monkeypatch
):
    from argparse import Namespace

    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    project_dir = REPO_ROOT / "dbt_project"
    set_from_args(Namespace(profiles_dir=str(project_dir)), None)

    def profile(cli_vars, **env):
        for name in ("WAREHOUSE_HOME", "WAREHOUSE_DUCKDB_MEMORY_LIMIT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        set_invocation_context(dict(os.environ))
        return load_profile(str(project_dir), cli_vars, None, None).credentials

    dagster = profile(
        {
            "warehouse_home": str(tmp_path / "a"),
            "duckdb_memory_limit": "1GB",
            "use_dev_pii_key": True,
        },
        WAREHOUSE_HOME=str(tmp_path / "ignored"),
    )
    assert dagster.path == f"{tmp_path / 'a'}/warehouse.duckdb"
    assert dagster.settings["memory_limit"] == "1GB"
    assert str(dagster.plugins[0].config["use_dev_key"]) == "True"

    by_hand = profile({}, WAREHOUSE_HOME=str(tmp_path / "b"), WAREHOUSE_DUCKDB_MEMORY_LIMIT="3GB")
    assert by_hand.path == f"{tmp_path / 'b'}/warehouse.duckdb"
    assert by_hand.settings["memory_limit"] == "3GB"
    assert str(by_hand.plugins[0].config["use_dev_key"]) == "False"


def test_the_plugin_prefers_a_real_key_and_uses_the_dev_key_only_when_told(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_PII_KEY", raising=False)
    with pytest.raises(MissingPiiKeyError, match="WAREHOUSE_PII_KEY"):
        Plugin("pii", {"use_dev_key": "False"})  # a plain dbt command without a key
    assert Plugin("pii", {"use_dev_key": "True"}).key == DEV_PII_KEY
    monkeypatch.setenv("WAREHOUSE_PII_KEY", "real-key")
    assert Plugin("pii", {"use_dev_key": "True"}).key == "real-key"
    assert keyed_hash("浙B12345", Plugin("pii", {}).key) == keyed_hash("浙B12345", "real-key")


def test_a_dbt_command_starts_dbt_without_dagster_dbts_version_probe_and_adapter(
    tmp_path, monkeypatch
):
    """dagster-dbt would run `dbt --version` and load the project into an in-process adapter
    before every command (about 3 s, for metadata this project never fetches): the warehouse's
    dbt resource starts dbt directly, and the command still works."""
    import dagster_dbt.core.resource as dagster_dbt_resource
    import dbt.adapters.factory

    from pipelines.defs.resources import dbt_resource
    from pipelines.settings import Settings

    probes = []

    def refuse(*args, **kwargs):  # dagster-dbt swallows an adapter's error: recorded too
        probes.append(args)
        raise AssertionError(f"dagster-dbt's probe ran: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", refuse)
    monkeypatch.setattr(dbt.adapters.factory, "register_adapter", refuse)
    settings = Settings(home=tmp_path / "home", raw_dir=tmp_path / "raw")
    settings.ensure_dirs()
    project = DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_project_dir,
        target_path=settings.dbt_target_dir,
    )
    dbt = dbt_resource(settings, project)
    dbt.cli(["parse", "--quiet"], target_path=project.target_path).wait()
    assert project.manifest_path.exists()
    assert probes == []
