"""dbt models and seeds as Dagster assets; `dbt build` also runs dbt's tests.

dbt's tests (keys, relationships, accepted values, contracts, unit tests) are not loaded as
Dagster asset checks: a failing one fails `dbt build` and so the step, and the checks step,
the summary and the report count them from dbt's run_results.json. As ~230 asset checks they
cost a night ~460 Dagster events (planned + evaluated) and several seconds before the run
starts, for no decision that the step's failure does not already make.

The project is dagster-dbt's ``DbtProject`` with its target in WAREHOUSE_HOME/dbt/target (one
per warehouse: partial parsing works between runs, nothing is written into the repo). Its
manifest is made by dagster-dbt's preparer (``dbt parse`` under its concurrent-update guard),
run through the warehouse's dbt resource (``WarehouseProjectPreparer``): under ``dagster dev``
on every load, like dagster-dbt's ``prepare_if_dev``, and otherwise when there is none yet (a
fresh clone or warehouse), when the project changed since it was made, or when it does not
read as a whole (a full disk can cut dbt's files short).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class.
import json
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_dbt.errors import DagsterDbtManifestNotFoundError

from pipelines.defs import unit_tests
from pipelines.defs.resources import WarehouseDbtResource, WarehouseResource, dbt_resource
from pipelines.runlog import dbt_tests_message
from pipelines.settings import Settings
from pipelines.validation.report import dbt_test_results, dbt_tests_text
from pipelines.validation.runner import preload_great_expectations

# What dbt reads when it parses: a change to any of them makes the manifest out of date.
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_FOLDERS = ("models", "seeds", "macros", "tests", "snapshots", "plugins")


def project_files(project_dir: Path) -> list[Path]:
    """Every file dbt reads when it parses the project."""
    paths = [project_dir / name for name in PROJECT_FILES]
    for folder in PROJECT_FOLDERS:
        paths.extend((project_dir / folder).rglob("*"))
    return [p for p in paths if p.is_file()]


def _newest_source_mtime(project_dir: Path) -> float:
    return max((p.stat().st_mtime for p in project_files(project_dir)), default=0.0)


def _readable(manifest: Path) -> bool:
    """A whole manifest (a run that hit a full disk can leave dbt's files cut short)."""
    try:
        with open(manifest, "rb") as fh:
            json.load(fh)
        return True
    except (OSError, ValueError):
        return False


def manifest_out_of_date(project: DbtProject) -> bool:
    """No manifest, one older than the project's files, or one cut short. A cut-short manifest
    takes dbt's partial-parse state beside it along: that was written by the same run."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    if not _readable(manifest):
        (manifest.parent / "partial_parse.msgpack").unlink(missing_ok=True)
        return True
    return manifest.stat().st_mtime < _newest_source_mtime(project.project_dir)


class WarehouseProjectPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer with the warehouse's dbt resource for its `dbt parse`: the dbt of
    this interpreter (the venv need not be on PATH), the warehouse's --vars (the same as every
    build, so partial parsing holds) and no colour codes."""

    def __init__(self, dbt: DbtCliResource):
        super().__init__(prepare_project_cli_args=["parse", "--quiet"])
        self._dbt = dbt

    def prepare_if_dev(self, project: DbtProject) -> None:
        """Under `dagster dev` on every load (dagster-dbt's rule); otherwise whenever the manifest
        is out of date, so `warehouse run` works on a fresh clone and after a model changed."""
        if self.using_dagster_dev() or manifest_out_of_date(project):
            self.prepare(project)
        if not project.manifest_path.exists():
            raise DagsterDbtManifestNotFoundError(
                f"dbt parse wrote no manifest at {project.manifest_path}"
            )

    def _prepare_manifest(self, project: DbtProject) -> None:
        self._dbt.cli(self._prepare_project_cli_args, target_path=project.target_path).wait()


def warehouse_dbt_project(settings: Settings) -> DbtProject:
    """The dbt project of this warehouse, its manifest prepared."""
    project = DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_project_dir,
        target_path=settings.dbt_target_dir,  # absolute: outside the project folder
    )
    WarehouseProjectPreparer(dbt_resource(settings, project)).prepare_if_dev(project)
    return project


# dbt processes this Python process started and has not seen end, by pid. dagster-dbt stops
# dbt only on an interrupt: when Dagster itself fails (say a full disk fails its event
# writes), the step's generator is left suspended, dbt runs on and keeps the working
# database's lock, and neither the run's summary nor the next run can open it.
_RUNNING: dict[int, DbtCliInvocation] = {}


def stop_running_dbt() -> None:
    """End every dbt process of this process's runs that is still going (the CLI calls this
    when a run is over, whatever its outcome)."""
    for invocation in list(_RUNNING.values()):
        stop_dbt(invocation)


def stop_dbt(invocation: DbtCliInvocation) -> None:
    """SIGINT, as dagster-dbt does (dbt rolls back and closes DuckDB); SIGKILL if it has not
    ended in dagster-dbt's termination timeout (DuckDB's WAL keeps the file whole either way).
    Our end of dbt's stdout is closed first: nobody reads it any more, and dbt, blocked on a
    full pipe, would never get to end (measured: 25 s then SIGKILL; closed: it ends at once)."""
    _RUNNING.pop(invocation.process.pid, None)
    process = invocation.process
    if process.poll() is not None:
        return
    if process.stdout is not None:
        process.stdout.close()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=invocation.termination_timeout_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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


# Landed rows per record type in file versions the stg_ models have not staged: the rule of
# macro staging_versions (dbt_project/macros/warehouse.sql) without its batch bound.
STAGING_BACKLOG = """
SELECT v.record_type, sum(v.rows_landed)::BIGINT
FROM ops.file_ledger AS v
LEFT JOIN staging.stg_file_versions AS s
    ON s.record_type = v.record_type AND s.file_version_id = v.file_version_id
WHERE v.record_type IN ('inspections', 'disputes', 'traffic')
    AND v.status IN ('loaded', 'superseded') AND v.rows_landed > 0
    AND (s.file_version_id IS NULL OR s.is_current <> (v.status = 'loaded')
         OR s.rows_landed <> v.rows_landed)
GROUP BY ALL
"""

# What a catch-up batch builds and tests: the stg_ models and the int_ models that resolve
# their records (with what those read), and the staging state; marts, quality and checks wait
# for the night's build. Tests of these models alone (cautious): a batch is tested like a night
# (the record keys' unique_in_batch tests read only the latest batch).
CATCH_UP_SELECT = "+int_watermarks stg_file_versions"


def staging_backlog(warehouse: WarehouseResource) -> dict[str, int]:
    """Landed rows not yet staged, per record type; empty when no build has staged any (the
    first build stages everything at once)."""
    if not warehouse.duckdb_path.exists():
        return {}
    with warehouse.connect(read_only=True) as conn:
        built = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE (schema_name, table_name) IN "
                "(('staging', 'stg_file_versions'), ('intermediate', 'int_watermarks'))"
            ).fetchall()
        }
        if built != {"stg_file_versions", "int_watermarks"}:
            return {}
        return dict(conn.execute(STAGING_BACKLOG).fetchall())


def catch_up(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    project: DbtProject,
    batch_rows: int,
) -> int:
    """Stage and resolve a backlog larger than one batch in batches of at most `batch_rows`
    rows per record type (macro staging_versions), one `dbt build` each, until what is left fits
    the night's build: a night after an outage or a load of older years then needs the memory
    and temporary disk of one batch, not of the whole backlog. Each batch is a night the
    incremental models already handle (the record-identity tests split corpora into nights).
    Returns the number of batches run."""
    batches = 0
    backlog = staging_backlog(warehouse)
    while backlog and max(backlog.values()) > batch_rows:
        batches += 1
        context.log.info(
            f"catch-up batch {batches}: rows not yet staged "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(backlog.items()))
            + f"; staging at most {batch_rows:,} of each"
        )
        invocation = dbt.cli(
            ["build", "--select", CATCH_UP_SELECT, "--indirect-selection", "cautious"],
            target_path=project.target_path,
        )
        _RUNNING[invocation.process.pid] = invocation
        try:
            invocation.wait()
        except BaseException:
            stop_dbt(invocation)
            raise
        finally:
            _RUNNING.pop(invocation.process.pid, None)
        left = staging_backlog(warehouse)
        if sum(left.values()) >= sum(backlog.values()):  # never loop without progress
            raise dg.Failure(
                f"catch-up batch {batches} staged nothing: {left} rows still not staged"
            )
        backlog = left
    return batches


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=False)
        ),
        name="dbt_warehouse",
    )
    def dbt_warehouse(
        context: dg.AssetExecutionContext,
        dbt: WarehouseDbtResource,
        warehouse: WarehouseResource,
    ):
        """`dbt build`: seeds, models and tests; an error-severity test stops the children.
        A backlog larger than one staging batch is worked off first (catch_up)."""
        preload_great_expectations()  # for the checks step, while dbt works
        catch_up(context, dbt, warehouse, project, int(dbt.warehouse_vars["staging_batch_rows"]))
        target = Path(project.target_path)
        code = unit_tests.code_fingerprint(
            project_files(Path(project.project_dir)), Path(project.project_dir)
        )
        skip = unit_tests.skip_args(target, code)
        if skip:
            passed = unit_tests.passed_on(target) or {}
            context.log.info(
                f"dbt unit tests not run: all {passed.get('unit_tests')} passed on this code "
                f"(run {passed.get('run_id')}, {passed.get('passed_at')})"
            )
        # One target folder per warehouse, the same every run (runs are serialised by the
        # writer lock): dbt's partial parse then saves a full parse on every run.
        started = time.time()
        invocation = dbt.cli(["build", *skip], context=context, target_path=project.target_path)
        _RUNNING[invocation.process.pid] = invocation
        try:
            for event in invocation.stream():
                # a dbt test's outcome (an observation without asset checks): counted from
                # run_results.json instead, not written as one Dagster event per test
                if not isinstance(event, dg.AssetObservation):
                    yield event
        except BaseException:
            stop_dbt(invocation)
            raise
        finally:  # also when a test failed the build: the progress line says which counts
            _RUNNING.pop(invocation.process.pid, None)
            if not skip:
                unit_tests.record_if_all_passed(target, code, context.run.run_id, started)
            results = dbt_test_results(target / "run_results.json")
            context.log.info(dbt_tests_message(dbt_tests_text(results)))

    return dbt_warehouse
