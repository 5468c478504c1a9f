"""Landing and ops tables exactly as docs/architecture.md defines them (the contract)."""

from __future__ import annotations

import duckdb

# Field kinds drive both the column type and the value normalisation (normalise.py).
# key/text/station -> VARCHAR, date -> DATE, timestamp -> TIMESTAMP, count(_or_bool) -> BIGINT,
# bool -> BOOLEAN. Order = column order of the landing table.
FIELDS: dict[str, dict[str, str]] = {
    "inspections": {
        "inspection_id": "key",
        "inspected_on": "date",
        "station": "station",
        "venue_name": "text",
        "venue_type": "text",
        "venue_address": "text",
        "hazards_found": "count",
        "hazards_rectified": "count",
        "notices_issued": "count_or_bool",
        "closure_ordered": "bool",
        "rental_households": "count",
        "rental_rooms": "count",
        "officer": "text",
        "contact_phone": "text",
        "remarks": "text",
    },
    "disputes": {
        "dispute_id": "key",
        "reported_on": "date",
        "station": "station",
        "source": "text",
        "dispute_type": "text",
        "risk_level": "text",
        "status": "text",
        "resolved_on": "optional_date",
        "mediation_channel": "text",
        "mediation_result": "text",
        "escalated_to_criminal": "bool",
        "follow_up_visits": "count",
        "party_name": "text",
        "party_id_number": "text",
        "party_phone": "text",
    },
    "traffic": {
        "ticket_id": "key",
        "occurred_at": "timestamp",
        "unit": "station",
        "road": "text",
        "violation": "text",
        "violation_code": "text",
        "vehicle_type": "text",
        "plate": "text",
        "party_name": "text",
        "party_id_number": "text",
        "action": "text",
        "fine_yuan": "count",
    },
}

# Personal data among the fields: never published in the clear (keyed hash or left out); the
# quality tables replace them in rejected rows' raw values (pipelines/pii.py: redact_values).
PII_FIELDS: dict[str, tuple[str, ...]] = {
    "inspections": ("officer", "contact_phone"),
    "disputes": ("party_name", "party_id_number", "party_phone"),
    "traffic": ("plate", "party_name", "party_id_number"),
}

SQL_TYPES = {
    "key": "VARCHAR",
    "text": "VARCHAR",
    "station": "VARCHAR",
    "date": "DATE",
    "optional_date": "DATE",
    "timestamp": "TIMESTAMP",
    "count": "BIGINT",
    "count_or_bool": "BIGINT",
    "bool": "BOOLEAN",
}

LINEAGE = {
    "_file_sha256": "VARCHAR",
    "_source_path": "VARCHAR",
    "_sheet": "VARCHAR",
    "_line": "INTEGER",
    "_exported_at": "TIMESTAMP",
    "_first_seen_at": "TIMESTAMP",
    "_mapping_version": "VARCHAR",
    "_station_source": "VARCHAR",
    "_extra": "JSON",
    "_run_id": "VARCHAR",
}

REFERENCE_COLUMNS = {
    "station_id": "VARCHAR",
    "station_name": "VARCHAR",
    "bureau_name": "VARCHAR",
    "city": "VARCHAR",
    "province": "VARCHAR",
    "unit_type": "VARCHAR",
    "model_station_level": "VARCHAR",
    "model_station_year": "INTEGER",
    "alias": "VARCHAR",
    "_source_path": "VARCHAR",
}

# raw/reference/reporting*.csv: which stations are expected to report which record types, and
# from / until when (empty station_id or record_type: every station / every type)
REPORTING_COLUMNS = {
    "station_id": "VARCHAR",
    "record_type": "VARCHAR",
    "expected_from": "DATE",
    "expected_to": "DATE",
    "deadline_hours": "INTEGER",
    "_source_path": "VARCHAR",
}

LEDGER_COLUMNS = {
    "file_version_id": "VARCHAR",
    "path": "VARCHAR",
    "sha256": "VARCHAR",
    "size_bytes": "BIGINT",
    "mtime": "TIMESTAMP",
    "record_type": "VARCHAR",
    "encoding": "VARCHAR",
    "sheets": "JSON",
    "header_line": "INTEGER",
    "mapping_version": "VARCHAR",
    "exported_at": "TIMESTAMP",
    "rows_read": "BIGINT",
    "rows_landed": "BIGINT",
    "rows_quarantined": "BIGINT",
    "lines_skipped": "BIGINT",
    "status": "VARCHAR",
    "error_message": "VARCHAR",
    "first_seen_at": "TIMESTAMP",
    "loaded_at": "TIMESTAMP",
    "run_id": "VARCHAR",
    "detail": "JSON",
    "superseded_by": "VARCHAR",
    "retry": "BOOLEAN",
    "current_since": "TIMESTAMP",
}
# added after the first release: a ledger written before them is migrated (ensure_schema)
LEDGER_ADDED = ("superseded_by", "retry", "current_since")

QUARANTINE_COLUMNS = {
    "quarantine_id": "VARCHAR",
    "stage": "VARCHAR",
    "record_type": "VARCHAR",
    "source_path": "VARCHAR",
    "file_sha256": "VARCHAR",
    "sheet": "VARCHAR",
    "line_number": "INTEGER",
    "reason_code": "VARCHAR",
    "message": "VARCHAR",
    "raw_values": "JSON",
    "run_id": "VARCHAR",
    "quarantined_at": "TIMESTAMP",
    "station_text": "VARCHAR",
    "record_date": "DATE",
}
QUARANTINE_ADDED = ("station_text", "record_date")


def key_field(record_type: str) -> str:
    return next(f for f, kind in FIELDS[record_type].items() if kind == "key")


def landing_columns(record_type: str) -> dict[str, str]:
    cols = {f: SQL_TYPES[kind] for f, kind in FIELDS[record_type].items()}
    return {**cols, **LINEAGE}


def _create(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    body = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create schemas landing/ops and their tables; safe to call on every run."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS landing")
    conn.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for record_type in FIELDS:
        _create(conn, f"landing.{record_type}", landing_columns(record_type))
    _create(conn, "landing.reference_stations", REFERENCE_COLUMNS)
    _create(conn, "landing.reference_reporting", REPORTING_COLUMNS)
    _create(conn, "ops.file_ledger", LEDGER_COLUMNS)
    _create(conn, "ops.quarantine", QUARANTINE_COLUMNS)
    _migrate_ledger(conn)
    _add_columns(conn, "ops.quarantine", QUARANTINE_COLUMNS, QUARANTINE_ADDED)


def _add_columns(
    conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], added: tuple[str, ...]
) -> list[str]:
    """Columns added after the first release, added to a table written before them."""
    schema, name = table.split(".")
    have = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    missing = [c for c in added if c not in have]
    for column in missing:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {columns[column]}")
    return missing


def _migrate_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    """A ledger from before versions of a path replaced each other: add the columns, and of
    several loaded versions of one path keep the latest loaded (the others superseded)."""
    if not _add_columns(conn, "ops.file_ledger", LEDGER_COLUMNS, LEDGER_ADDED):
        return
    conn.execute(
        "UPDATE ops.file_ledger SET current_since = first_seen_at, retry = false "
        "WHERE current_since IS NULL"
    )
    conn.execute("""
        UPDATE ops.file_ledger AS l SET status = 'superseded', superseded_by = w.file_version_id
        FROM (SELECT path, file_version_id FROM ops.file_ledger WHERE status = 'loaded'
              QUALIFY row_number() OVER (PARTITION BY path ORDER BY first_seen_at DESC) = 1) AS w
        WHERE l.path = w.path AND l.status = 'loaded' AND l.file_version_id <> w.file_version_id""")
