"""raw/reference/stations*.csv -> landing.reference_stations (replaced on every run)."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import duckdb

from pipelines.landing.schema import REFERENCE_COLUMNS

log = logging.getLogger(__name__)


def _year(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def read_reference(raw_dir: Path) -> list[list[object]]:
    rows: list[list[object]] = []
    for path in sorted((Path(raw_dir) / "reference").glob("stations*.csv")):
        rel = path.relative_to(raw_dir).as_posix()
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                for record in csv.DictReader(f):
                    clean = {(k or "").strip().lower(): (v or "").strip() or None
                             for k, v in record.items() if isinstance(v, str | None)}
                    if not clean.get("station_id"):
                        continue
                    clean["model_station_year"] = _year(clean.get("model_station_year"))
                    clean["_source_path"] = rel
                    rows.append([clean.get(c) for c in REFERENCE_COLUMNS])
        except (UnicodeDecodeError, csv.Error) as exc:
            # the registry is operator data: a broken file is logged and left out, not fatal
            log.warning("reference file %s skipped: %s", rel, exc)
    return rows


def land_reference_stations(conn: duckdb.DuckDBPyConnection, raw_dir: Path) -> int:
    """Replace landing.reference_stations with the rows of raw/reference/stations*.csv."""
    rows = read_reference(Path(raw_dir))
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM landing.reference_stations")
        if rows:
            marks = ", ".join("?" for _ in REFERENCE_COLUMNS)
            conn.executemany(f"INSERT INTO landing.reference_stations VALUES ({marks})", rows)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return len(rows)
