"""Read-only views of ops.file_ledger and ops.quarantine for operators (status, summary, report,
`warehouse quarantine`), as plain JSON-able values.

Columns that newer landing code adds are read when present and ignored when absent (a database
built by older code): ``superseded_by`` (the file_version_id of the version of the same path
that replaced this one), ``retry`` (failed for a passing cause, tried again every run), and the
statuses ``superseded`` and ``ignored``.

A failed file version is *open* while it is its path's latest version (and nothing superseded
it); it is *fixed* once a later version of the same path was recorded that did not fail.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import duckdb

STATUSES = ("loaded", "failed", "duplicate", "superseded", "ignored")
SNAPSHOT_FORMAT = 1
COVERAGE_TABLE = "marts.mart_reporting_coverage"
COVERAGE_GAP_STATUSES = ("MISSING", "LATE", "PARTIAL")

_UNKNOWN_STATION = re.compile(r"^unknown station '(?P<value>.*)'$", re.S)
_AMBIGUOUS_STATION = re.compile(r"^ambiguous station '(?P<value>.*)' \(matches (?P<m>.*)\)$", re.S)
_UNMAPPED = re.compile(r"^unmapped (?P<kind>\w+) '(?P<value>.*)'$", re.S)


def connect_readonly(path) -> duckdb.DuckDBPyConnection:
    """A connection for reading the working database. Read-only, unless this very process
    still has it open for writing (a job that crashed out of a step left a connection behind;
    DuckDB refuses a second configuration of the same file in one process): then a plain
    connection shares that open database. Only used under the writer lock."""
    import os

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if f"(PID {os.getpid()})" not in str(exc) and "different configuration" not in str(exc):
            raise
        return duckdb.connect(str(path))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    relation = conn.execute(sql, params or {})
    names = [d[0] for d in relation.description]
    return [
        {n: _jsonable(v) for n, v in zip(names, row, strict=True)} for row in relation.fetchall()
    ]


def has_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".", 1)
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def ledger_columns(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'ops' "
            "AND table_name = 'file_ledger'"
        ).fetchall()
    }


def ledger_totals(
    conn: duckdb.DuckDBPyConnection, run_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per record type: files by status and the row counts, over every file version (or the
    versions recorded by `run_id`)."""
    if not has_table(conn, "ops.file_ledger"):
        return {}
    where = "WHERE run_id = $run_id" if run_id else ""
    rows = conn.execute(
        f"""
        SELECT record_type, status, count(*) AS files,
               coalesce(sum(rows_read), 0), coalesce(sum(rows_landed), 0),
               coalesce(sum(rows_quarantined), 0), coalesce(sum(lines_skipped), 0)
        FROM ops.file_ledger {where} GROUP BY ALL ORDER BY ALL""",
        {"run_id": run_id} if run_id else {},
    ).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for record_type, status, files, read, landed, quarantined, skipped in rows:
        entry = out.setdefault(
            record_type,
            {
                "files": {},
                "rows_read": 0,
                "rows_landed": 0,
                "rows_quarantined": 0,
                "lines_skipped": 0,
            },
        )
        entry["files"][status] = int(files)
        entry["rows_read"] += int(read)
        entry["rows_landed"] += int(landed)
        entry["rows_quarantined"] += int(quarantined)
        entry["lines_skipped"] += int(skipped)
    return out


def file_failures(conn: duckdb.DuckDBPyConnection, limit: int = 200) -> dict[str, Any]:
    """{'open': failed files whose latest version failed, 'fixed': failed versions a later,
    not failed version of the same path replaced, 'open_total', 'fixed_total'}."""
    empty = {"open": [], "fixed": [], "open_total": 0, "fixed_total": 0}
    if not has_table(conn, "ops.file_ledger"):
        return empty
    columns = ledger_columns(conn)
    superseded = "superseded_by" if "superseded_by" in columns else "CAST(NULL AS VARCHAR)"
    retry = "retry" if "retry" in columns else "CAST(NULL AS BOOLEAN)"
    since = (
        "coalesce(current_since, first_seen_at)" if "current_since" in columns else "first_seen_at"
    )
    rows = _rows(
        conn,
        f"""
        WITH v AS (
            SELECT file_version_id, path, record_type, status, error_message, first_seen_at,
                   loaded_at, run_id, {superseded} AS superseded_by, {retry} AS retry,
                   -- current_since: a revert makes an older version the latest again
                   row_number() OVER (PARTITION BY path ORDER BY {since} DESC,
                                      loaded_at DESC NULLS LAST, file_version_id DESC) AS rank
            FROM ops.file_ledger
        )
        SELECT f.path, f.record_type, f.error_message AS message, f.first_seen_at,
               f.run_id, f.retry, f.superseded_by, f.rank = 1 AS is_latest,
               latest.status AS latest_status, latest.file_version_id AS latest_version,
               latest.first_seen_at AS latest_seen_at
        FROM v AS f JOIN v AS latest ON latest.path = f.path AND latest.rank = 1
        WHERE f.status = 'failed'
        ORDER BY f.path, f.first_seen_at""",
    )
    open_, fixed = [], []
    for row in rows:
        if row["is_latest"] and row["superseded_by"] is None:
            open_.append(
                {
                    k: row[k]
                    for k in ("path", "record_type", "message", "first_seen_at", "run_id", "retry")
                }
            )
        elif row["latest_status"] != "failed":
            fixed.append(
                {
                    "path": row["path"],
                    "record_type": row["record_type"],
                    "message": row["message"],
                    "failed_at": row["first_seen_at"],
                    "fixed_by": row["superseded_by"] or row["latest_version"],
                    "fixed_at": row["latest_seen_at"],
                }
            )
    return {
        "open": open_[:limit],
        "fixed": fixed[-limit:],
        "open_total": len(open_),
        "fixed_total": len(fixed),
    }


def quarantine_by_reason(
    conn: duckdb.DuckDBPyConnection, run_id: str | None = None
) -> list[dict[str, Any]]:
    if not has_table(conn, "ops.quarantine"):
        return []
    where = "WHERE run_id = $run_id" if run_id else ""
    return _rows(
        conn,
        f"""
        SELECT stage, reason_code AS reason, count(*) AS rows
        FROM ops.quarantine {where} GROUP BY ALL ORDER BY stage, rows DESC, reason""",
        {"run_id": run_id} if run_id else {},
    )


def parse_problem(reason: str, message: str) -> list[tuple[str, str, str]]:
    """The unknown spellings a model quarantine message names: (kind, value, note); kind is
    'station' or a code dimension (venue_type, violation, ...)."""
    found = []
    if reason == "unknown_station":
        if m := _UNKNOWN_STATION.match(message or ""):
            found.append(("station", m["value"], ""))
        elif m := _AMBIGUOUS_STATION.match(message or ""):
            found.append(("station", m["value"], f"ambiguous: matches {m['m']}"))
    elif reason == "unmapped_value":
        for part in (message or "").split("; "):
            if m := _UNMAPPED.match(part):
                found.append((m["kind"], m["value"], ""))
    return found


def unknown_values(conn: duckdb.DuckDBPyConnection, files_shown: int = 3) -> list[dict[str, Any]]:
    """Each unknown station or code spelling held back by the models: rows, files, types."""
    if not has_table(conn, "ops.quarantine"):
        return []
    grouped = conn.execute(f"""
        SELECT reason_code, message, count(*) AS n,
               list(DISTINCT source_path ORDER BY source_path)[1:{files_shown}] AS files,
               count(DISTINCT source_path) AS n_files,
               list(DISTINCT record_type ORDER BY record_type) AS record_types
        FROM ops.quarantine
        WHERE stage = 'model' AND reason_code IN ('unknown_station', 'unmapped_value')
        GROUP BY ALL""").fetchall()
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for reason, message, n, files, n_files, record_types in grouped:
        for kind, value, note in parse_problem(reason, message):
            entry = merged.setdefault(
                (kind, value),
                {
                    "kind": kind,
                    "value": value,
                    "rows": 0,
                    "files": [],
                    "file_count": 0,
                    "record_types": [],
                    "note": note,
                },
            )
            entry["rows"] += int(n)
            entry["file_count"] += int(n_files)  # upper bound when messages share files
            entry["files"] = sorted(set(entry["files"]) | set(files or []))[:files_shown]
            entry["record_types"] = sorted(set(entry["record_types"]) | set(record_types))
    return sorted(
        merged.values(), key=lambda e: (e["kind"] != "station", e["kind"], -e["rows"], e["value"])
    )


def quarantine_rows(
    conn: duckdb.DuckDBPyConnection,
    *,
    reason: str | None = None,
    station: str | None = None,
    file: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Rejected rows (newest stage last), filtered; returns (rows, total matching)."""
    if not has_table(conn, "ops.quarantine"):
        return [], 0
    where, params = ["TRUE"], {}
    if reason:
        where.append("reason_code = $reason")
        params["reason"] = reason
    if file:
        where.append("(source_path = $file OR source_path LIKE '%' || $file || '%')")
        params["file"] = file
    if station:
        # the station text is in the raw values (its header varies by export) or the path
        where.append(
            "(CAST(raw_values AS VARCHAR) LIKE '%' || $station || '%' "
            "OR source_path LIKE '%' || $station || '%')"
        )
        params["station"] = station
    condition = " AND ".join(where)
    total = conn.execute(
        f"SELECT count(*) FROM ops.quarantine WHERE {condition}", params
    ).fetchone()[0]
    rows = _rows(
        conn,
        f"""
        SELECT source_path AS file, sheet, line_number AS line, stage, reason_code AS reason,
               message, record_type
        FROM ops.quarantine WHERE {condition}
        ORDER BY source_path, sheet NULLS FIRST, line_number NULLS FIRST, reason_code
        LIMIT {int(limit)}""",
        params,
    )
    return rows, int(total)


def coverage_gaps(conn: duckdb.DuckDBPyConnection, limit: int = 100) -> dict[str, Any] | None:
    """The gaps of the reporting-coverage mart: station-days whose status is MISSING, LATE
    or PARTIAL in marts.mart_reporting_coverage (station_id, station_name, day, record_type,
    status). None while that mart does not exist."""
    if not has_table(conn, COVERAGE_TABLE):
        return None
    statuses = ", ".join(f"'{s}'" for s in COVERAGE_GAP_STATUSES)
    by_status = {
        r["status"]: r["n"]
        for r in _rows(
            conn,
            f"""
        SELECT status, count(*) AS n FROM {COVERAGE_TABLE} WHERE status IN ({statuses})
        GROUP BY ALL""",
        )
    }
    rows = _rows(
        conn,
        f"""
        SELECT station_id, station_name, day, record_type, status FROM {COVERAGE_TABLE}
        WHERE status IN ({statuses})
        ORDER BY day DESC, station_name, record_type LIMIT {int(limit)}""",
    )
    return {"by_status": by_status, "total": sum(by_status.values()), "rows": rows}


def snapshot(conn: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, Any]:
    """Everything `warehouse status` shows from the working database, as of now."""
    last = None
    if has_table(conn, "ops.file_ledger"):
        last = conn.execute("SELECT max(loaded_at) FROM ops.file_ledger").fetchone()[0]
    return {
        "format": SNAPSHOT_FORMAT,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run_id,
        "ledger": ledger_totals(conn),
        "failures": file_failures(conn),
        "quarantine": quarantine_by_reason(conn),
        "unknown_values": unknown_values(conn),
        "coverage_gaps": coverage_gaps(conn, limit=50),
        "last_loaded_at": _jsonable(last),
    }
