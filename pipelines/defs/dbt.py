"""dbt models, seeds and tests as Dagster assets and asset checks."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class.
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets


def _newest_source_mtime(project_dir: Path) -> float:
    paths = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "seeds", "macros", "tests", "snapshots", "plugins"):
        paths.extend((project_dir / folder).rglob("*"))
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def _readable(manifest: Path) -> bool:
    """A whole manifest (a run that hit a full disk can leave dbt's files cut short)."""
    try:
        with open(manifest, "rb") as fh:
            json.load(fh)
        return True
    except (OSError, ValueError):
        return False


def ensure_manifest(project: DbtProject, target_dir: Path) -> Path:
    """Parse once per code change, not per asset or per run; again when the manifest (or
    dbt's partial-parse state beside it) was left broken, e.g. by a full disk."""
    manifest = target_dir / "manifest.json"
    broken = manifest.exists() and not _readable(manifest)
    if broken:
        (target_dir / "partial_parse.msgpack").unlink(missing_ok=True)
    if broken or not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(
        project.project_dir
    ):
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir), "--target-path", str(target_dir)],
            check=True,
        )
    return manifest


# ops.quarantine holds the landing's rejects (written by landing, before dbt: what dbt reads)
# and the models' (written after dbt by the quarantine asset): two assets, one table.
SOURCE_KEYS = {("ops", "quarantine"): dg.AssetKey(["ops", "landing_quarantine"])}


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse schemas: ["marts", "fct_inspections"], ["landing", …]."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            name = (dbt_resource_props["source_name"], dbt_resource_props["name"])
            return SOURCE_KEYS.get(name, dg.AssetKey(list(name)))
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "main"


def build_dbt_assets(project_dir: Path, target_dir: Path) -> dg.AssetsDefinition:
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)

    @dbt_assets(
        manifest=ensure_manifest(project, target_dir),
        project=project,
        dagster_dbt_translator=WarehouseDbtTranslator(),
        name="dbt_warehouse",
    )
    def dbt_warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """`dbt build`: seeds, models and tests; an error-severity test stops the children."""
        # One target folder per warehouse, the same every run (runs are serialised by the
        # writer lock): dbt's partial parse then saves a full parse on every run.
        yield from dbt.cli(["build"], context=context, target_path=target_dir).stream()

    return dbt_warehouse
