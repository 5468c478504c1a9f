"""Resources configured from the environment (see pipelines/settings.py)."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

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
    _lock_file: IO[Any] | None = PrivateAttr(default=None)

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
        # One refresh at a time, whoever starts it (CLI, UI, schedule, sensor): the lock is
        # held for the whole run; a second run waits here instead of failing on DuckDB's lock.
        self.home_path.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.home_path / ".writer.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            context.log.info("another refresh holds the writer lock; waiting for it")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        lock_file = self._lock_file
        if lock_file is not None:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()

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
