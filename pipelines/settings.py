"""Configuration: the environment variables of README's configuration table, read once.

``load_settings()`` reads them into one ``Settings`` model (pydantic-settings): names, defaults
and meanings are README's table. Everything else takes its configuration from that model:

- the Dagster resources (``pipelines/defs/resources.py``: ``build_resources(settings)``), which
  the assets, checks and the raw-file sensor receive;
- dbt, through its command line (``Settings.dbt_vars``: ``--vars`` that ``profiles.yml``
  reads); only a real ``WAREHOUSE_PII_KEY`` reaches dbt through the environment it inherits;
- the ``warehouse`` command (``pipelines/cli.py``), which reads it once per command.

Nothing here writes to ``os.environ``. Relative paths are taken from the current directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipelines.landing.limits import Limits

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORD_TYPES = ("inspections", "disputes", "traffic")
# The folders under the raw dir that hold data; anything beside them (a README) is not read.
RAW_FOLDERS = (*RECORD_TYPES, "reference")

# Documented in the README: only for development, never for production figures.
DEV_PII_KEY = "dev-only-pii-key-not-for-production"
PRODUCTION = "production"
MIB = 2**20
# The variables overriding thresholds of the validation suites (expectations/parameters.yml
# names which threshold each overrides); kept as text, parsed by the suites.
CHECK_THRESHOLD_ENV = (
    "WAREHOUSE_COMPLETENESS_WINDOW_DAYS",
    "WAREHOUSE_COMPLETENESS_BLOCKING_RATIO",
    "WAREHOUSE_VOLUME_MIN_RATIO",
    "WAREHOUSE_VOLUME_MAX_RATIO",
    "WAREHOUSE_FRESHNESS_MAX_AGE_DAYS",
)


class ConfigError(RuntimeError):
    """The environment does not allow the warehouse to start."""


class WarehouseLayout:
    """Where everything lives under WAREHOUSE_HOME: one definition for the settings and for the
    Dagster resource (``pipelines.defs.resources.WarehouseResource``)."""

    @property
    def home_path(self) -> Path:
        raise NotImplementedError

    @property
    def duckdb_path(self) -> Path:
        return self.home_path / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home_path / "dagster"

    @property
    def published_dir(self) -> Path:
        return self.home_path / "published"

    @property
    def reports_dir(self) -> Path:
        return self.home_path / "reports"

    @property
    def tmp_dir(self) -> Path:
        return self.home_path / "tmp"

    @property
    def logs_dir(self) -> Path:
        """One full log per run: logs/<run id>.log (pipelines/runlog.py)."""
        return self.home_path / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's manifest, run results, logs and partial-parse state for this warehouse (not the
        repo's dbt_project/target: two warehouses on one machine must not share it)."""
        return self.home_path / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.home_path / "dbt" / "logs"

    def ensure_dirs(self) -> None:
        for d in (
            self.home_path,
            self.dagster_home,
            self.published_dir,
            self.reports_dir,
            self.tmp_dir,
            self.logs_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)


def _env(name: str, default: Any, **kwargs: Any) -> Any:
    """A field read from the environment variable `name` (README's configuration table)."""
    return Field(default, validation_alias=name, **kwargs)


class Settings(WarehouseLayout, BaseSettings):
    """The warehouse's configuration. Build it with ``load_settings()`` (which also applies the
    rules about the PII key); the field names are what the rest of the code reads."""

    model_config = SettingsConfigDict(
        case_sensitive=True,  # exactly the names of the table
        env_ignore_empty=True,  # VAR= means the default, as before
        extra="ignore",
        frozen=True,
        validate_by_name=True,  # Settings(home=...) in tests and scripts
        validate_default=True,  # relative default paths are resolved like given ones
    )

    raw_dir: Path = _env("WAREHOUSE_RAW_DIR", Path("raw"))
    home: Path = _env("WAREHOUSE_HOME", Path("warehouse"))
    dbt_project_dir: Path = _env("WAREHOUSE_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project")
    expectations_dir: Path = _env("WAREHOUSE_EXPECTATIONS_DIR", REPO_ROOT / "expectations")
    # HMAC key of plate and party keys; load_settings() puts the development key in when unset
    pii_key: str = _env("WAREHOUSE_PII_KEY", "", repr=False)
    environment: str = _env("WAREHOUSE_ENV", "dev")
    keep_snapshots: int = _env("WAREHOUSE_KEEP_SNAPSHOTS", 14)
    # DuckDB's buffer pool per process (it defaults to 80 % of RAM); beyond it DuckDB spills to
    # <warehouse>.duckdb.tmp, so it bounds the job's peak memory
    duckdb_memory_limit: str = _env("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "2GB")
    # landed rows of one record type staged and resolved per dbt invocation: a larger backlog
    # (a catch-up) goes in batches, so its spill follows the batch (dbt var staging_batch_rows)
    staging_batch_rows: int = _env("WAREHOUSE_STAGING_BATCH_ROWS", 10_000_000, ge=1)
    # landing threads (one DuckDB cursor each) sharing shards of files; 1 lands them in turn
    landing_threads: int = _env("WAREHOUSE_LANDING_THREADS", 2)
    # from this many bytes to land, worker processes read the files ahead (a rebuild)
    landing_workers_min_bytes: int = _env("WAREHOUSE_LANDING_WORKERS_MIN_BYTES", 64 << 20, ge=0)
    # the validation suites (pipelines/validation): fact row checks read every row, not only
    # the rows written since the published run; rows per streamed record batch; failing rows
    # kept per check
    validation_full: bool = _env("WAREHOUSE_VALIDATION_FULL", False)
    validation_batch_rows: int = _env("WAREHOUSE_VALIDATION_BATCH_ROWS", 500_000, ge=1)
    validation_sample_rows: int = _env("WAREHOUSE_VALIDATION_SAMPLE_ROWS", 20, ge=1)
    # threshold overrides of the suites (CHECK_THRESHOLD_ENV), as text
    completeness_window_days: str | None = _env("WAREHOUSE_COMPLETENESS_WINDOW_DAYS", None)
    completeness_blocking_ratio: str | None = _env("WAREHOUSE_COMPLETENESS_BLOCKING_RATIO", None)
    volume_min_ratio: str | None = _env("WAREHOUSE_VOLUME_MIN_RATIO", None)
    volume_max_ratio: str | None = _env("WAREHOUSE_VOLUME_MAX_RATIO", None)
    freshness_max_age_days: str | None = _env("WAREHOUSE_FRESHNESS_MAX_AGE_DAYS", None)
    # what one raw file may cost, and how long a fresh file is watched (pipelines/landing)
    max_file_mb: float = _env("WAREHOUSE_MAX_FILE_MB", Limits.max_file_bytes / MIB)
    max_xlsx_mb: float = _env("WAREHOUSE_MAX_XLSX_MB", Limits.max_uncompressed_bytes / MIB)
    max_sheet_cells: int = _env("WAREHOUSE_MAX_SHEET_CELLS", Limits.max_sheet_cells)
    max_file_seconds: float = _env("WAREHOUSE_MAX_FILE_SECONDS", Limits.max_seconds)
    max_field_chars: int = _env("WAREHOUSE_MAX_FIELD_CHARS", Limits.max_field_chars)
    settle_seconds: float = _env("WAREHOUSE_SETTLE_SECONDS", Limits.settle_seconds)

    @field_validator(
        "raw_dir",
        "home",
        "dbt_project_dir",
        "expectations_dir",
        "keep_snapshots",
        "landing_threads",
        "validation_batch_rows",
        "validation_sample_rows",
        "max_file_mb",
        "max_xlsx_mb",
        "max_sheet_cells",
        "max_file_seconds",
        "max_field_chars",
        "settle_seconds",
        mode="before",
    )
    @classmethod
    def _blank_is_default(cls, value: Any) -> Any:
        # "  " is unset, like "" (env_ignore_empty); numbers are read stripped
        if isinstance(value, str) and not value.strip():
            raise PydanticUseDefault()
        return value

    @field_validator("raw_dir", "home", "dbt_project_dir", "expectations_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("validation_full", mode="before")
    @classmethod
    def _full(cls, value: Any) -> Any:
        # `1` (also `true`, `yes`) switches it on; any other value leaves it off
        return str(value).strip() in ("1", "true", "yes") if isinstance(value, str) else value

    @property
    def home_path(self) -> Path:
        return self.home

    @property
    def landing_limits(self) -> Limits:
        return Limits(
            max_file_bytes=int(self.max_file_mb * MIB),
            max_uncompressed_bytes=int(self.max_xlsx_mb * MIB),
            max_sheet_cells=self.max_sheet_cells,
            max_seconds=self.max_file_seconds,
            max_field_chars=self.max_field_chars,
            settle_seconds=self.settle_seconds,
        )

    @property
    def check_thresholds(self) -> Mapping[str, str]:
        """The threshold overrides set: variable of CHECK_THRESHOLD_ENV -> its text, stripped."""
        values = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if field.validation_alias in CHECK_THRESHOLD_ENV and value and value.strip():
                values[field.validation_alias] = value.strip()
        return values

    @property
    def uses_dev_pii_key(self) -> bool:
        return self.pii_key == DEV_PII_KEY

    def dbt_vars(self) -> dict[str, Any]:
        """What dbt's profile reads from ``--vars`` (Dagster passes them on every dbt command):
        the database path, its memory limit, the staging batch, and whether the plugin may use
        the development PII key. A real key is never put on a command line: dbt inherits
        WAREHOUSE_PII_KEY."""
        return {
            "warehouse_home": str(self.home),
            "duckdb_memory_limit": self.duckdb_memory_limit,
            "staging_batch_rows": self.staging_batch_rows,
            "use_dev_pii_key": self.uses_dev_pii_key,
        }

    def dbt_env(self) -> dict[str, str]:
        """The variables a plain `dbt` command needs to work on this warehouse, for running dbt
        by hand or from a script (Dagster passes ``dbt_vars`` instead)."""
        return {
            "WAREHOUSE_HOME": str(self.home),
            "WAREHOUSE_RAW_DIR": str(self.raw_dir),
            "WAREHOUSE_PII_KEY": self.pii_key,
            "DBT_TARGET_PATH": str(self.dbt_target_dir),
            "DBT_LOG_PATH": str(self.dbt_log_dir),
            "WAREHOUSE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
        }


def raw_export_files(raw_dir: Path) -> Iterator[Path]:
    """Every file landing would look at, in a stable order."""
    for folder in RAW_FOLDERS:
        top = raw_dir / folder
        if top.is_dir():
            yield from sorted(p for p in top.rglob("*") if p.is_file())


def _config_error(exc: ValidationError) -> ConfigError:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        problems.append(f"{name}={error.get('input')!r}: {error['msg']}")
    return ConfigError("invalid configuration: " + "; ".join(problems))


_warned_dev_key = False


def load_settings(*, needs_pii_key: bool = True, **overrides: Any) -> Settings:
    """The settings from the environment (``overrides``: field values that replace it). A
    production environment without WAREHOUSE_PII_KEY refuses to start (ConfigError); elsewhere
    the documented development key stands in, with a warning once per process.

    ``needs_pii_key=False``: for commands that only read the warehouse's state or its published
    tables (status, quarantine, versions, bulletin, rollback, release) and never make a keyed
    hash; they neither refuse nor warn, and the key stays empty."""
    global _warned_dev_key
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise _config_error(exc) from None
    if settings.pii_key or not needs_pii_key:
        return settings
    if settings.environment == PRODUCTION:
        raise ConfigError(
            "WAREHOUSE_PII_KEY is not set: a production run refuses to start without it"
        )
    if not _warned_dev_key:  # once per process, however often the settings are read
        log.warning("WAREHOUSE_PII_KEY not set: using the documented development key")
        _warned_dev_key = True
    return settings.model_copy(update={"pii_key": DEV_PII_KEY})
