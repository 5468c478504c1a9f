"""Publish validated marts as an immutable Parquet snapshot and swap the BI catalog."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class,
# a string annotation fails the definition.
import json
import subprocess
from pathlib import Path

import dagster as dg

from pipelines.defs.checks import outcomes_path
from pipelines.defs.resources import WarehouseResource
from pipelines.publish import publish
from pipelines.settings import REPO_ROOT
from pipelines.validation import check_specs, load_suites

PUBLISHED_KEY = dg.AssetKey(["published", "catalog"])


def published_tables(suites_dir: Path) -> list[str]:
    """Every table a suite guards is published; nothing without a suite is. Names of the
    `marts` schema are bare, others `schema.table` (see pipelines.publish.publish)."""
    return sorted(
        {
            spec.table if spec.schema == "marts" else f"{spec.schema}.{spec.table}"
            for spec in check_specs(suites_dir)
        }
    )


def row_stamps(suites_dir: Path) -> dict[str, str]:
    """Tables whose rows carry a batch stamp (a suite's `rows_since`): publish hashes only
    their months whose row count or largest stamp changed (pipelines/publish/stamps.py)."""
    return {s.table: s.rows_since for s in load_suites(suites_dir) if s.rows_since}


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def build_publish_asset(suites_dir: Path, dbt_target_dir: Path) -> dg.AssetsDefinition:
    tables = published_tables(suites_dir)
    stamped = row_stamps(suites_dir)

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=[dg.AssetKey(t.split(".") if "." in t else ["marts", t]) for t in tables],
        group_name="publish",
        kinds={"parquet", "duckdb"},
        description="BI catalog (published/catalog.duckdb) over the newest validated snapshot.",
    )
    def published_catalog(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # Dagster skips this step when a blocking check fails; reading the outcomes again
        # makes the guarantee independent of how the run was selected.
        path = outcomes_path(warehouse, context.run.run_id)
        if not path.exists():
            raise dg.Failure(f"no validation results for run {context.run.run_id}: not publishing")
        outcomes = json.loads(path.read_text())
        failed = [o["name"] for o in outcomes if o["blocking"] and not o["passed"]]
        if failed:
            raise dg.Failure(f"blocking checks failed, nothing published: {', '.join(failed)}")
        manifest = dbt_target_dir / "manifest.json"  # column docs for the catalog
        with warehouse.connect(read_only=True) as conn:
            result = publish(
                conn,
                tables,
                warehouse.published_dir,
                run_id=context.run.run_id,
                check_results=outcomes,
                keep=warehouse.keep_snapshots,
                git_commit=_git_commit(),
                dbt_manifest=manifest if manifest.exists() else None,
                # WAREHOUSE_VALIDATION_FULL: every row checked, every month hashed, every
                # linked file read again
                row_stamps=None if warehouse.validation_full else stamped,
                read_bytes=warehouse.validation_full,
            )
        return dg.MaterializeResult(
            metadata={
                "version": result.version,
                "changed": result.changed,
                "reason": result.reason,
                "latest": dg.MetadataValue.path(str(result.latest_path)),
                "pruned": dg.MetadataValue.json(result.pruned),
                "catalog": dg.MetadataValue.path(str(result.catalog_path)),
                "row_counts": dg.MetadataValue.json(result.row_counts),
            }
        )

    return published_catalog
