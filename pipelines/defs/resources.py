"""Resources configured from the environment (see pipelines/settings.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

from pipelines import runstate
from pipelines.landing.limits import Limits
from pipelines.settings import Settings, load_settings


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB file and the folders around it. One writer at a time."""

    raw_dir: str
    home: str
    keep_snapshots: int = 14
    memory_limit: str = "2GB"  # DuckDB buffer pool of this process's connections
    landing_threads: int = 2  # shards of raw files landing at once
    # what one raw file may cost (pipelines/landing/limits.py); defaults from Limits
    max_file_bytes: int = Limits.max_file_bytes
    max_xlsx_bytes: int = Limits.max_uncompressed_bytes
    max_sheet_cells: int = Limits.max_sheet_cells
    max_file_seconds: float = Limits.max_seconds
    max_field_chars: int = Limits.max_field_chars
    settle_seconds: float = Limits.settle_seconds
    _lock: runstate.WriterLock | None = PrivateAttr(default=None)

    @property
    def landing_limits(self) -> Limits:
        return Limits(max_file_bytes=self.max_file_bytes,
                      max_uncompressed_bytes=self.max_xlsx_bytes,
                      max_sheet_cells=self.max_sheet_cells, max_seconds=self.max_file_seconds,
                      max_field_chars=self.max_field_chars, settle_seconds=self.settle_seconds)

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @property
    def duckdb_path(self) -> Path:
        return self.home_path / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home_path / "published"

    @property
    def reports_dir(self) -> Path:
        return self.home_path / "reports"

    @property
    def tmp_dir(self) -> Path:
        return self.home_path / "tmp"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # One refresh at a time, whoever starts it. `warehouse run` takes the writer lock itself
        # before it creates the Dagster instance and keeps it until its summary is printed:
        # then this process holds it already (flock from a second descriptor would wait for
        # ourselves). A run from the UI, the schedule or the sensor takes it here and waits
        # for a running refresh instead of failing on DuckDB's lock.
        self._lock = None
        if runstate.held_here(self.home_path):
            return

        def waiting(holder: runstate.Holder | None) -> None:
            context.log.info(f"{runstate.busy_message(holder)}; waiting for it to finish")

        run_id = context.dagster_run.run_id if context.dagster_run else None
        self._lock = runstate.acquire_writer(self.home_path, run_id=run_id, command="dagster",
                                             on_wait=waiting)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            self.write_status_snapshot(context.dagster_run.run_id if context.dagster_run
                                       else None)
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


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    settings.ensure_dirs()
    # dbt runs as a subprocess that inherits this environment: its profile and PII UDF read
    # the same variables, so both sides always agree on the paths and the key.
    os.environ.update(settings.dbt_env())
    # dbt's output lands in log files and the UI's captured stdout: no colour codes there
    os.environ.setdefault("DBT_USE_COLORS", "false")
    return {
        "warehouse": WarehouseResource(
            raw_dir=str(settings.raw_dir),
            home=str(settings.home),
            keep_snapshots=settings.keep_snapshots,
            memory_limit=settings.duckdb_memory_limit,
            landing_threads=settings.landing_threads,
            max_file_bytes=settings.landing_limits.max_file_bytes,
            max_xlsx_bytes=settings.landing_limits.max_uncompressed_bytes,
            max_sheet_cells=settings.landing_limits.max_sheet_cells,
            max_file_seconds=settings.landing_limits.max_seconds,
            max_field_chars=settings.landing_limits.max_field_chars,
            settle_seconds=settings.landing_limits.settle_seconds,
        ),
        "dbt": DbtCliResource(
            project_dir=str(settings.dbt_project_dir),
            profiles_dir=str(settings.dbt_project_dir),
            # the dbt installed beside this interpreter: the venv need not be activated
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    }
