"""Run the repository's dbt project against a temporary DuckDB file built by landing.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.dbt.landing import build_landing

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
TEST_PII_KEY = "dbt-test-pii-key"


@dataclass
class Warehouse:
    """A warehouse home (warehouse.duckdb) plus the dbt project and the dirs dbt writes to."""

    home: Path
    project_dir: Path = PROJECT_DIR

    @property
    def path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def dbt(self, *args: str, succeed: bool = True) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "WAREHOUSE_HOME": str(self.home),
            "WAREHOUSE_RAW_DIR": str(self.home / "raw"),
            "WAREHOUSE_PII_KEY": TEST_PII_KEY,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        cmd = [
            str(DBT),
            "--no-use-colors",
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            # target/ (with the partial-parse cache) and logs/ per warehouse: parallel runs
            # never collide, consecutive runs of one warehouse re-use the parse
            "--target-path",
            str(self.home / "dbt_target"),
            "--log-path",
            str(self.home / "dbt_logs"),
        ]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if succeed:
            assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-6000:]}"
        else:
            assert result.returncode != 0, f"{' '.join(args)} passed:\n{result.stdout[-6000:]}"
        return result

    def run_results(self) -> dict[str, str]:
        """unique_id -> status of the last dbt invocation."""
        data = json.loads((self.home / "dbt_target" / "run_results.json").read_text())
        return {r["unique_id"]: r["status"] for r in data["results"]}

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    def copy_to(self, home: Path, project_dir: Path | None = None) -> Warehouse:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.path, home / "warehouse.duckdb")
        # re-use the parse (partial_parse.msgpack, relative paths: valid for a project copy)
        shutil.copytree(
            self.home / "dbt_target",
            home / "dbt_target",
            ignore=shutil.ignore_patterns("run", "compiled"),
        )
        return Warehouse(home=home, project_dir=project_dir or self.project_dir)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Warehouse:
    """Landing tables of landing.INITIAL, then one `dbt build` shared by the assertions."""
    home = tmp_path_factory.mktemp("dbt_warehouse")
    build_landing(home / "warehouse.duckdb")
    warehouse = Warehouse(home=home)
    warehouse.dbt("build")
    return warehouse
