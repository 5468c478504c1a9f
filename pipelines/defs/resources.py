"""The Dagster resources, built from the settings (pipelines/settings.py) by ``build_resources``.

- ``warehouse`` (``WarehouseResource``): the raw dir, the warehouse home and everything under
  it (the same layout as the settings: ``WarehouseLayout``), the limits of landing, the DuckDB
  connection and the writer lock of a run. The assets, the checks and the raw-file sensor take
  it.
- ``dbt`` (``WarehouseDbtResource``): dagster-dbt's CLI resource on the ``DbtProject`` of
  pipelines/defs/dbt.py, which passes the warehouse's ``--vars`` (``Settings.dbt_vars``) to
  every dbt command; the project's preparer parses with it too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version
from pydantic import Field, PrivateAttr

from pipelines import runstate
from pipelines.landing.limits import Limits
from pipelines.settings import Settings, WarehouseLayout


class WarehouseResource(dg.ConfigurableResource, WarehouseLayout):
    """The working DuckDB file and the folders around it. One writer at a time."""

    raw_dir: str
    home: str
    keep_snapshots: int = 14
    memory_limit: str = "2GB"  # DuckDB buffer pool of this process's connections
    landing_threads: int = 2  # shards of raw files landing at once
    # from this many bytes to land, worker processes read the files ahead (landing/prefetch.py)
    landing_workers_min_bytes: int = 64 << 20
    # checks read every row and record, publish hashes every month (WAREHOUSE_VALIDATION_FULL)
    validation_full: bool = False
    # what one raw file may cost (pipelines/landing/limits.py); defaults from Limits
    max_file_bytes: int = Limits.max_file_bytes
    max_xlsx_bytes: int = Limits.max_uncompressed_bytes
    max_sheet_cells: int = Limits.max_sheet_cells
    max_file_seconds: float = Limits.max_seconds
    max_field_chars: int = Limits.max_field_chars
    settle_seconds: float = Limits.settle_seconds
    _lock: runstate.WriterLock | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        limits = settings.landing_limits
        return cls(
            raw_dir=str(settings.raw_dir),
            home=str(settings.home),
            keep_snapshots=settings.keep_snapshots,
            memory_limit=settings.duckdb_memory_limit,
            landing_threads=settings.landing_threads,
            landing_workers_min_bytes=settings.landing_workers_min_bytes,
            validation_full=settings.validation_full,
            max_file_bytes=limits.max_file_bytes,
            max_xlsx_bytes=limits.max_uncompressed_bytes,
            max_sheet_cells=limits.max_sheet_cells,
            max_file_seconds=limits.max_seconds,
            max_field_chars=limits.max_field_chars,
            settle_seconds=limits.settle_seconds,
        )

    @property
    def landing_limits(self) -> Limits:
        return Limits(
            max_file_bytes=self.max_file_bytes,
            max_uncompressed_bytes=self.max_xlsx_bytes,
            max_sheet_cells=self.max_sheet_cells,
            max_seconds=self.max_file_seconds,
            max_field_chars=self.max_field_chars,
            settle_seconds=self.settle_seconds,
        )

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # One refresh at a time, whoever starts it. `warehouse run` takes the writer lock itself
        # before it creates the Dagster instance and keeps it until its summary is printed:
        # then this process holds it already (flock from a second descriptor would wait for
        # ourselves). A run from the UI, the schedule or the sensor takes it here and waits
        # for a running refresh instead of failing on DuckDB's lock. A sensor's evaluation
        # (no run) only reads the raw dir: no lock.
        self._lock = None
        if context.run is None or runstate.held_here(self.home_path):
            return

        def waiting(holder: runstate.Holder | None) -> None:
            context.log.info(f"{runstate.busy_message(holder)}; waiting for it to finish")

        self._lock = runstate.acquire_writer(
            self.home_path, run_id=context.run.run_id, command="dagster", on_wait=waiting
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is None:  # a sensor's evaluation: nothing was written
            return
        try:
            self.write_status_snapshot(context.run.run_id)
        except Exception as exc:  # the status file is a convenience: never fail a run for it
            context.log.warning(f"status snapshot not written: {exc}")
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def write_status_snapshot(self, run_id: str | None) -> None:
        """The ledger and quarantine as `warehouse status` shows them, written while the writer
        lock is still held (status reads it when a later refresh holds the lock)."""
        from pipelines import opsview

        if not self.duckdb_path.exists():
            return
        with opsview.connect_readonly(self.duckdb_path) as conn:
            snapshot = opsview.snapshot(conn, run_id)
        runstate.write_status(self.home_path, snapshot)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        # Short-lived connections: dbt runs in a subprocess and needs the write lock after us.
        self.home_path.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(self.duckdb_path), read_only=read_only)
        conn.execute("SET enable_progress_bar = false")  # terminal output, not log lines
        conn.execute("SET memory_limit = ?", [self.memory_limit])
        try:
            yield conn
        finally:
            conn.close()


def dbt_vars_args(dbt_vars: dict[str, Any]) -> list[str]:
    """`--vars` for dbt, spelled the same for every command (dbt's partial parse compares
    them between runs)."""
    return ["--vars", json.dumps(dbt_vars, sort_keys=True)]


class WarehouseDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource that adds the warehouse's ``--vars`` (``Settings.dbt_vars``:
    the database path, its memory limit, the development-key switch) to every dbt command."""

    warehouse_vars: dict[str, Any] = Field(
        default_factory=dict, description="dbt vars profiles.yml reads (Settings.dbt_vars)"
    )

    def cli(self, args: Sequence[str], **kwargs: Any):  # type: ignore[override]
        return super().cli([*args, *dbt_vars_args(self.warehouse_vars)], **kwargs)

    # Two costs dagster-dbt adds before every dbt command, which this project has no use for
    # (about 3 s per command, twice a run on a fresh home: bench/RESULTS.md):
    @property
    def _cli_version(self) -> version.Version:
        """dagster-dbt runs `dbt --version` in a subprocess (1.3 s) to tell dbt Core from the
        Fusion engine. Ours is the pinned dbt-core installed beside this interpreter."""
        return version.parse(package_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """dagster-dbt loads the profile, the project and every macro into an in-process adapter
        (1.9 s) only to fetch the column metadata or row counts of built relations
        (`fetch_column_metadata`, `fetch_row_counts`), which this project does not ask for."""
        return None


def dbt_resource(settings: Settings, dbt_project: DbtProject) -> WarehouseDbtResource:
    return WarehouseDbtResource(
        project_dir=dbt_project,
        warehouse_vars=settings.dbt_vars(),
        # dbt's output lands in log files and the UI's captured stdout: no colour codes
        global_config_flags=["--no-use-colors"],
        # the dbt installed beside this interpreter: the venv need not be activated
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


def build_resources(settings: Settings, dbt_project: DbtProject) -> dict[str, object]:
    """The resources of the code location, from the settings read once by build_defs."""
    settings.ensure_dirs()
    return {
        "warehouse": WarehouseResource.from_settings(settings),
        "dbt": dbt_resource(settings, dbt_project),
    }
