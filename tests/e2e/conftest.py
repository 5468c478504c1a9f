"""Run the real nightly job in process on a temporary raw dir and warehouse home."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines.settings import Settings, load_settings

TEST_PII_KEY = "e2e-test-key"


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@dataclass
class Warehouse:
    raw: Path
    home: Path
    extra_env: dict[str, str]

    def env(self) -> dict[str, str]:
        # the generated files are seconds old: no settle interval (tests/faults/ tests it)
        return {
            "WAREHOUSE_RAW_DIR": str(self.raw),
            "WAREHOUSE_HOME": str(self.home),
            "WAREHOUSE_PII_KEY": TEST_PII_KEY,
            "WAREHOUSE_SETTLE_SECONDS": "0",
            **self.extra_env,
        }

    def settings(self) -> Settings:
        with environment(**self.env()):
            return load_settings()

    def run(self):
        """The nightly job through Dagster, exactly as `warehouse run` executes it."""
        from pipelines.definitions import build_defs
        from pipelines.summary import run_summary

        with environment(**self.env()):
            settings = load_settings()
            job = build_defs(settings).resolve_job_def("nightly_refresh")
            result = job.execute_in_process(
                instance=DagsterInstance.ephemeral(), raise_on_error=False
            )
            summary, ok = run_summary(settings, result)
        return result, summary, ok

    @property
    def catalog(self) -> Path:
        return self.home / "published" / "catalog.duckdb"

    def published(self, table: str, columns: list[str] | None = None) -> list[tuple]:
        cols = ", ".join(columns) if columns else "*"
        with duckdb.connect(str(self.catalog), read_only=True) as conn:
            return sorted(conn.execute(f"SELECT {cols} FROM marts.{table}").fetchall(), key=repr)

    def working(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.home / "warehouse.duckdb"), read_only=True) as conn:
            return conn.execute(sql, params).fetchall()

    def published_tree_digest(self) -> str:
        digest = hashlib.sha256()
        root = self.home / "published"
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


def make_warehouse(tmp: Path, raw: Path, **extra_env: str) -> Warehouse:
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return Warehouse(raw=raw, home=home, extra_env=extra_env)


def load_truth(raw: Path) -> dict:
    return json.loads((raw / "truth.json").read_text())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
