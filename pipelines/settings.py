"""Configuration from the environment: the one place paths and secrets are resolved."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.landing.limits import Limits

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORD_TYPES = ("inspections", "disputes", "traffic")
# The folders under the raw dir that hold data; anything beside them (a README) is not read.
RAW_FOLDERS = (*RECORD_TYPES, "reference")

# Documented in the README: only for development, never for production figures.
DEV_PII_KEY = "dev-only-pii-key-not-for-production"
# The variables overriding thresholds of the validation suites (expectations/parameters.yml
# names which threshold each overrides).
CHECK_THRESHOLD_ENV = ("WAREHOUSE_COMPLETENESS_WINDOW_DAYS",
                       "WAREHOUSE_COMPLETENESS_BLOCKING_RATIO", "WAREHOUSE_VOLUME_MIN_RATIO",
                       "WAREHOUSE_VOLUME_MAX_RATIO", "WAREHOUSE_FRESHNESS_MAX_AGE_DAYS")


class ConfigError(RuntimeError):
    """The environment does not allow the warehouse to start."""


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    home: Path
    dbt_project_dir: Path
    expectations_dir: Path
    pii_key: str
    environment: str
    keep_snapshots: int
    # DuckDB's buffer pool per process (it defaults to 80 % of RAM); beyond it DuckDB spills to
    # <warehouse>.duckdb.tmp. Bounds the job's peak memory (issue 6: ≤ 4 GiB at city scale).
    duckdb_memory_limit: str = "2GB"
    # landing threads (one DuckDB cursor each) sharing shards of files; 1 lands them in turn
    landing_threads: int = 2
    # what one raw file may cost, and how long a fresh file is watched (pipelines/landing)
    landing_limits: Limits = field(default_factory=Limits)
    # the validation suites (pipelines/validation): rows per streamed record batch, failing
    # rows kept per check, every row checked (not only rows written since the published run),
    # and the threshold overrides set (variable of CHECK_THRESHOLD_ENV -> its text)
    validation_batch_rows: int = 500_000
    validation_sample_rows: int = 20
    validation_full: bool = False
    check_thresholds: Mapping[str, str] = field(default_factory=dict)

    @property
    def duckdb_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def logs_dir(self) -> Path:
        """One full log per run: logs/<run id>.log (pipelines/runlog.py)."""
        return self.home / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's manifest, run results and partial-parse state for this warehouse (not the repo's
        dbt_project/target: two warehouses on one machine must not share it)."""
        return self.home / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.home / "dbt" / "logs"

    def ensure_dirs(self) -> None:
        for d in (self.home, self.dagster_home, self.published_dir, self.reports_dir, self.tmp_dir,
                  self.logs_dir):
            d.mkdir(parents=True, exist_ok=True)

    def dbt_env(self) -> dict[str, str]:
        """Variables dbt's profile and models read (one source for both dbt and Dagster)."""
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


def _path(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default).expanduser().resolve()


_warned_dev_key = False


def load_settings() -> Settings:
    global _warned_dev_key
    environment = os.environ.get("WAREHOUSE_ENV", "dev")
    pii_key = os.environ.get("WAREHOUSE_PII_KEY", "")
    if not pii_key:
        if environment == "production":
            raise ConfigError(
                "WAREHOUSE_PII_KEY is not set: a production run refuses to start without it"
            )
        if not _warned_dev_key:  # once per process, however often the settings are read
            log.warning("WAREHOUSE_PII_KEY not set: using the documented development key")
            _warned_dev_key = True
        pii_key = DEV_PII_KEY
    return Settings(
        raw_dir=_path("WAREHOUSE_RAW_DIR", "raw"),
        home=_path("WAREHOUSE_HOME", "warehouse"),
        dbt_project_dir=_path("WAREHOUSE_DBT_PROJECT_DIR", str(REPO_ROOT / "dbt_project")),
        expectations_dir=_path("WAREHOUSE_EXPECTATIONS_DIR", str(REPO_ROOT / "expectations")),
        pii_key=pii_key,
        environment=environment,
        keep_snapshots=int(os.environ.get("WAREHOUSE_KEEP_SNAPSHOTS", "14")),
        duckdb_memory_limit=os.environ.get("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "2GB"),
        landing_threads=int(os.environ.get("WAREHOUSE_LANDING_THREADS", "2")),
        landing_limits=_limits(),
        validation_batch_rows=_positive_int("WAREHOUSE_VALIDATION_BATCH_ROWS", 500_000),
        validation_sample_rows=_positive_int("WAREHOUSE_VALIDATION_SAMPLE_ROWS", 20),
        validation_full=os.environ.get("WAREHOUSE_VALIDATION_FULL", "").strip()
        in ("1", "true", "yes"),
        check_thresholds={name: os.environ[name].strip() for name in CHECK_THRESHOLD_ENV
                          if os.environ.get(name, "").strip()},
    )


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if value < 1:
        raise ConfigError(f"{name}={raw!r} must be at least 1")
    return value


def _limits() -> Limits:
    """WAREHOUSE_MAX_FILE_MB, _MAX_XLSX_MB, _MAX_SHEET_CELLS, _MAX_FILE_SECONDS,
    _MAX_FIELD_CHARS and _SETTLE_SECONDS over the defaults of Limits."""
    default = Limits()

    def number(name: str, value: float, kind=float):
        raw = os.environ.get(name, "").strip()
        try:
            return kind(raw) if raw else value
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not a number") from exc

    return Limits(
        max_file_bytes=int(number("WAREHOUSE_MAX_FILE_MB", default.max_file_bytes / 2**20)
                           * 2**20),
        max_uncompressed_bytes=int(number("WAREHOUSE_MAX_XLSX_MB",
                                          default.max_uncompressed_bytes / 2**20) * 2**20),
        max_sheet_cells=number("WAREHOUSE_MAX_SHEET_CELLS", default.max_sheet_cells, int),
        max_seconds=number("WAREHOUSE_MAX_FILE_SECONDS", default.max_seconds),
        max_field_chars=number("WAREHOUSE_MAX_FIELD_CHARS", default.max_field_chars, int),
        settle_seconds=number("WAREHOUSE_SETTLE_SECONDS", default.settle_seconds),
    )
