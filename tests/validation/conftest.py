from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

import pytest

from pipelines.validation.compiled import CompiledSql, compile_checks, read_manifest
from tests.validation.warehouse import build

REPO_ROOT = Path(__file__).resolve().parents[2]
SUITES = REPO_ROOT / "expectations"
PROJECT_DIR = REPO_ROOT / "dbt_project"
# Historical test data: freshness is configured away so "everything passes" means everything.
QUIET = {"WAREHOUSE_FRESHNESS_MAX_AGE_DAYS": "1000000"}
COMPILE_ENV = {"WAREHOUSE_PII_KEY": "validation-test-key"}


@pytest.fixture(scope="session")
def check_manifest(tmp_path_factory) -> Path:
    """The repository's check models compiled by dbt, as a warehouse named warehouse.duckdb
    sees them (the test warehouses are): the SQL the suites run."""
    cached = CACHE / f"{project_digest()}.json"
    if cached.exists():  # the same project files and dbt: the same compiled SQL
        return cached
    home = tmp_path_factory.mktemp("compiled")
    manifest = compile_checks(
        PROJECT_DIR, home / "dbt" / "target", {**COMPILE_ENV, "WAREHOUSE_HOME": str(home)}
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(manifest, partial)
    os.replace(partial, cached)  # another worker may be writing the same: whole files only
    return cached


# dbt compile takes ~10 s; the fast test loop reuses its manifest while the project is unchanged
CACHE = Path(tempfile.gettempdir()) / "campaign-metrics-tests" / "check-manifests"


def project_digest() -> str:
    """The dbt project's files (not its target or logs) and the dbt and adapter versions."""
    digest = hashlib.sha256(f"{version('dbt-core')} {version('dbt-duckdb')}".encode())
    for path in sorted(PROJECT_DIR.rglob("*")):
        relative = path.relative_to(PROJECT_DIR)
        if path.is_file() and relative.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


@pytest.fixture(scope="session")
def compiled(check_manifest) -> CompiledSql:
    return read_manifest(check_manifest)


def install_manifest(check_manifest: Path, home: Path) -> Path:
    """A warehouse home whose dbt target holds the compiled check models, as `dbt build`
    leaves it."""
    target = home / "dbt" / "target"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(check_manifest, target / "manifest.json")
    assert read_manifest(target / "manifest.json").complete
    return target


def without_compiled_sql(manifest: Path, into: Path) -> Path:
    """A copy of a manifest as `dbt parse` writes it: every node, no compiled SQL."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    for node in data["nodes"].values():
        node["compiled_code"] = None
        node["compiled"] = False
    into.parent.mkdir(parents=True, exist_ok=True)
    into.write_text(json.dumps(data), encoding="utf-8")
    return into


@pytest.fixture(scope="session")
def valid_db(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("valid") / "warehouse.duckdb")


@pytest.fixture
def db(valid_db, tmp_path) -> Path:
    """A private copy of the valid warehouse, free to break."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(valid_db, path)
    return path
