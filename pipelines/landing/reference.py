"""raw/reference/: the operator's reference data, replaced on every run.

- stations*.csv -> landing.reference_stations (columns of the stations seed plus alias);
- reporting*.csv -> landing.reference_reporting (which stations report which record types,
  from and until when; columns of the reporting_expectations seed).
A broken reference file is logged and left out, never fatal: it is operator data.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from pipelines.landing.schema import REFERENCE_COLUMNS, REPORTING_COLUMNS

log = logging.getLogger(__name__)


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# table -> (file pattern, columns, typed columns, required column)
REFERENCES: dict[str, tuple[str, dict[str, str], dict[str, Callable], str]] = {
    "reference_stations": (
        "stations*.csv",
        REFERENCE_COLUMNS,
        {"model_station_year": _int},
        "station_id",
    ),
    "reference_reporting": (
        "reporting*.csv",
        REPORTING_COLUMNS,
        {"expected_from": _date, "expected_to": _date, "deadline_hours": _int},
        "expected_from",
    ),
}


def read_reference(raw_dir: Path, table: str = "reference_stations") -> list[list[object]]:
    pattern, columns, typed, required = REFERENCES[table]
    rows: list[list[object]] = []
    for path in sorted((Path(raw_dir) / "reference").glob(pattern)):
        rel = path.relative_to(raw_dir).as_posix()
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                for record in csv.DictReader(f):
                    clean = {
                        (k or "").strip().lower(): (v or "").strip() or None
                        for k, v in record.items()
                        if isinstance(v, str | None)
                    }
                    for name, convert in typed.items():
                        clean[name] = convert(clean.get(name))
                    if not clean.get(required):
                        continue
                    clean["_source_path"] = rel
                    rows.append([clean.get(c) for c in columns])
        except (UnicodeDecodeError, csv.Error) as exc:
            log.warning("reference file %s skipped: %s", rel, exc)
    return rows


def land_reference(
    conn: duckdb.DuckDBPyConnection, raw_dir: Path, table: str = "reference_stations"
) -> int:
    """Replace landing.<table> with the rows of its raw/reference/ files."""
    rows = read_reference(Path(raw_dir), table)
    columns = REFERENCES[table][1]
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM landing.{table}")
        if rows:
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO landing.{table} VALUES ({marks})", rows)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return len(rows)


def land_reference_stations(conn: duckdb.DuckDBPyConnection, raw_dir: Path) -> int:
    return land_reference(conn, raw_dir, "reference_stations")


def land_reference_reporting(conn: duckdb.DuckDBPyConnection, raw_dir: Path) -> int:
    return land_reference(conn, raw_dir, "reference_reporting")
