"""README's configuration table is the contract: every variable keeps its name, default and
meaning, is read once into ``Settings``, and reaches the code through the resources."""

from __future__ import annotations

import logging
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from pipelines import settings as settings_module
from pipelines.defs.resources import WarehouseResource
from pipelines.landing.limits import Limits
from pipelines.settings import (
    CHECK_THRESHOLD_ENV,
    DEV_PII_KEY,
    ConfigError,
    Settings,
    load_settings,
)

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
# Rows of README's table whose variables other parts read: the check thresholds
# (expectations/README.md, read by pipelines/validation).
ELSEWHERE = ("WAREHOUSE_COMPLETENESS_*", "WAREHOUSE_VOLUME_*", "WAREHOUSE_FRESHNESS_MAX_AGE_DAYS")


def readme_table() -> dict[str, str]:
    """variable -> its default as README's configuration table spells it."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z0-9_*]+)`", cells[0])
        defaults = re.findall(r"`([^`]*)`", cells[1])
        if len(defaults) != len(names):  # a default in words ("unset", "a fixed ... key")
            defaults = [cells[1]] * len(names)
        table.update(zip(names, defaults, strict=True))
    return table


def aliases() -> dict[str, str]:
    """environment variable -> Settings field."""
    return {info.validation_alias: name for name, info in Settings.model_fields.items()}


@pytest.fixture
def clean_env(monkeypatch):
    """No WAREHOUSE_* variable set: the defaults."""
    import os

    for name in list(os.environ):
        if name.startswith("WAREHOUSE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_variable_of_the_readme_table_is_a_setting_and_every_setting_is_documented():
    table = readme_table()
    assert "WAREHOUSE_HOME" in table and "WAREHOUSE_MAX_FIELD_CHARS" in table, table
    documented = {name for name in table if name not in ELSEWHERE}
    # the threshold variables are settings too, documented by the wildcard rows
    settings = {name for name in aliases() if name not in CHECK_THRESHOLD_ENV}
    assert documented == settings, documented ^ settings
    assert all(any(fnmatch(name, pattern) for pattern in ELSEWHERE) for name in CHECK_THRESHOLD_ENV)


def test_defaults_are_the_readme_defaults(clean_env):
    clean_env.chdir(REPO_ROOT)  # the table's relative paths are taken from the current dir
    settings = load_settings()
    fields = aliases()
    for variable, default in readme_table().items():
        if variable in ELSEWHERE:
            continue
        value = getattr(settings, fields[variable])
        if variable == "WAREHOUSE_PII_KEY":
            assert "development key" in default and value == DEV_PII_KEY
        elif variable == "WAREHOUSE_VALIDATION_FULL":
            assert default == "unset" and value is False
        elif isinstance(value, Path):
            assert value == Path(default).resolve(), variable
        elif isinstance(value, int | float):
            assert value == float(default), variable
        else:
            assert value == default, variable


def test_the_environment_reaches_the_warehouse_resource(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    for name, value in {
        "WAREHOUSE_RAW_DIR": str(tmp_path / "drop"),
        "WAREHOUSE_HOME": "relative/home",  # taken from the current directory
        "WAREHOUSE_KEEP_SNAPSHOTS": "3",
        "WAREHOUSE_DUCKDB_MEMORY_LIMIT": "512MB",
        "WAREHOUSE_LANDING_THREADS": "1",
        "WAREHOUSE_VALIDATION_FULL": "1",
        "WAREHOUSE_MAX_FILE_MB": "1.5",
        "WAREHOUSE_MAX_XLSX_MB": " 2 ",
        "WAREHOUSE_MAX_SHEET_CELLS": "1000",
        "WAREHOUSE_MAX_FILE_SECONDS": "7.5",
        "WAREHOUSE_MAX_FIELD_CHARS": "99",
        "WAREHOUSE_SETTLE_SECONDS": "0",
    }.items():
        clean_env.setenv(name, value)
    resource = WarehouseResource.from_settings(load_settings())
    assert resource.raw_path == tmp_path / "drop"
    assert resource.home_path == tmp_path / "relative" / "home"
    assert resource.published_dir == tmp_path / "relative" / "home" / "published"
    assert (
        resource.keep_snapshots,
        resource.memory_limit,
        resource.landing_threads,
        resource.validation_full,
    ) == (3, "512MB", 1, True)
    assert resource.landing_limits == Limits(
        max_file_bytes=int(1.5 * 2**20),
        max_uncompressed_bytes=2 * 2**20,
        max_sheet_cells=1000,
        max_seconds=7.5,
        max_field_chars=99,
        settle_seconds=0.0,
    )


def test_the_resource_and_the_settings_share_one_layout(clean_env, tmp_path):
    clean_env.setenv("WAREHOUSE_HOME", str(tmp_path))
    settings = load_settings()
    resource = WarehouseResource.from_settings(settings)
    for name in (
        "duckdb_path",
        "dagster_home",
        "published_dir",
        "reports_dir",
        "tmp_dir",
        "logs_dir",
        "dbt_target_dir",
    ):
        assert getattr(resource, name) == getattr(settings, name), name
    assert settings.dbt_target_dir == tmp_path / "dbt" / "target"


@pytest.mark.parametrize(
    "value, full",
    [
        ("1", True),
        ("true", True),
        (" yes ", True),
        ("0", False),
        ("no", False),
        ("TRUE", False),
        ("", False),
    ],
)
def test_validation_full_is_on_only_for_1_true_yes(clean_env, value, full):
    clean_env.setenv("WAREHOUSE_VALIDATION_FULL", value)
    assert load_settings().validation_full is full


def test_an_empty_variable_means_the_default(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    clean_env.setenv("WAREHOUSE_HOME", "")
    clean_env.setenv("WAREHOUSE_SETTLE_SECONDS", "  ")
    settings = load_settings()
    assert settings.home == tmp_path / "warehouse"
    assert settings.landing_limits.settle_seconds == Limits().settle_seconds


def test_a_value_that_is_not_a_number_is_named(clean_env):
    clean_env.setenv("WAREHOUSE_MAX_FILE_MB", "lots")
    with pytest.raises(ConfigError, match=r"WAREHOUSE_MAX_FILE_MB='lots'"):
        load_settings()


def test_production_without_a_pii_key_refuses_to_start(clean_env):
    clean_env.setenv("WAREHOUSE_ENV", "production")
    with pytest.raises(ConfigError, match="WAREHOUSE_PII_KEY is not set"):
        load_settings()
    clean_env.setenv("WAREHOUSE_PII_KEY", "a-real-key")
    settings = load_settings()
    assert settings.pii_key == "a-real-key" and not settings.uses_dev_pii_key
    assert "a-real-key" not in repr(settings)  # never in a log line


def test_development_falls_back_to_the_documented_key_with_one_warning(clean_env, caplog):
    clean_env.setattr(settings_module, "_warned_dev_key", False)
    with caplog.at_level(logging.WARNING, logger="pipelines.settings"):
        first, second = load_settings(), load_settings()
    assert first.pii_key == second.pii_key == DEV_PII_KEY
    assert [r.getMessage() for r in caplog.records].count(
        "WAREHOUSE_PII_KEY not set: using the documented development key"
    ) == 1


def test_dbt_gets_paths_and_the_dev_key_switch_as_vars_never_a_real_key(clean_env, tmp_path):
    clean_env.setenv("WAREHOUSE_HOME", str(tmp_path))
    dev = load_settings().dbt_vars()
    assert dev == {
        "warehouse_home": str(tmp_path),
        "duckdb_memory_limit": "2GB",
        "staging_batch_rows": 10_000_000,
        "use_dev_pii_key": True,
    }
    clean_env.setenv("WAREHOUSE_STAGING_BATCH_ROWS", "500000")
    assert load_settings().dbt_vars()["staging_batch_rows"] == 500_000
    clean_env.setenv("WAREHOUSE_PII_KEY", "secret-key")
    real = load_settings().dbt_vars()
    assert real["use_dev_pii_key"] is False
    assert "secret-key" not in repr(real)


def test_plain_dbt_stages_the_same_batch_as_the_job_by_default(clean_env, tmp_path):
    # dbt_project.yml's default is what a dbt command by hand uses (dbt_env passes no vars)
    import yaml

    from pipelines.settings import REPO_ROOT

    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    clean_env.setenv("WAREHOUSE_HOME", str(tmp_path))
    assert project["vars"]["staging_batch_rows"] == load_settings().staging_batch_rows
