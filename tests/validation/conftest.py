from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.validation.warehouse import build

REPO_ROOT = Path(__file__).resolve().parents[2]
SUITES = REPO_ROOT / "expectations"
# Historical test data: freshness is configured away so "everything passes" means everything.
QUIET = {"WAREHOUSE_FRESHNESS_MAX_AGE_DAYS": "1000000"}


@pytest.fixture(scope="session")
def valid_db(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("valid") / "warehouse.duckdb")


@pytest.fixture
def db(valid_db, tmp_path) -> Path:
    """A private copy of the valid warehouse, free to break."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(valid_db, path)
    return path
