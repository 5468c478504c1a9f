"""ops.file_ledger: one row per file version, and the transitions between versions of a path.

A file version is (path, sha256). What a path holds now is its latest version (the greatest
`current_since`); which rows count is decided by `status`:
- `loaded`: its rows are in landing and count (one loaded version per path at most);
- `superseded`: it was loaded (or a duplicate) and a later version of the same path replaced
  it; its rows stay in landing for lineage but no longer count (`superseded_by` names the
  version that replaced it). A revert to its bytes makes it `loaded` again;
- `duplicate`: byte-identical to a version loaded at another path (`detail.duplicate_of`); no
  rows. Only a committed, loaded version can be the original of a duplicate;
- `failed`: set aside with `error_message`; a failed version never replaces the path's loaded
  one (the last good content keeps counting). `retry` is true for passing causes (unreadable,
  still being written, changed while read): tried again on every run; a content failure is
  not read again until the path's bytes change. `superseded_by` set = fixed by a later version;
- `ignored`: a hidden file (name starting with '.'), never read.
Every transition of one file happens in the transaction that lands (or fails) it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from pipelines.landing.schema import LEDGER_COLUMNS


def version_id(path: str, sha256: str | None) -> str:
    """(path, sha256) -> id; a version whose bytes were never read (sha NULL) is the path's."""
    return hashlib.sha256(f"{path}\0{sha256 or ''}".encode()).hexdigest()[:24]


@dataclass
class LedgerRow:
    path: str
    sha256: str | None
    size_bytes: int | None
    mtime: datetime | None
    record_type: str | None
    first_seen_at: datetime
    run_id: str
    status: str = "loaded"
    encoding: str | None = None
    sheets: list[str] | None = None
    header_line: int | None = None
    mapping_version: str | None = None
    exported_at: datetime | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    lines_skipped: int = 0
    error_message: str | None = None
    loaded_at: datetime | None = None
    detail: dict = field(default_factory=dict)
    superseded_by: str | None = None
    retry: bool = False
    current_since: datetime | None = None

    @property
    def file_version_id(self) -> str:
        return version_id(self.path, self.sha256)

    def values(self) -> list[object]:
        row = {
            **{k: getattr(self, k, None) for k in LEDGER_COLUMNS},
            "file_version_id": self.file_version_id,
            "sheets": None if self.sheets is None else json.dumps(self.sheets, ensure_ascii=False),
            "detail": json.dumps(self.detail, ensure_ascii=False, default=str),
        }
        return [row[k] for k in LEDGER_COLUMNS]


@dataclass(frozen=True)
class Known:
    """A ledger row as the plan needs it."""

    file_version_id: str
    path: str
    sha256: str | None
    size_bytes: int | None
    mtime: datetime | None
    status: str
    retry: bool
    current_since: datetime | None
    duplicate_of: str | None  # file_version_id of the original (duplicates)
    error_message: str | None


@dataclass
class LedgerState:
    """The ledger as one snapshot: latest version per path, every version, loaded shas."""

    latest: dict[str, Known]
    versions: dict[tuple[str, str | None], Known]
    loaded: dict[str, Known]  # file_version_id -> loaded version
    loaded_sha: dict[str, Known]  # sha256 -> a loaded version with those bytes

    def original_alive(self, dup: Known) -> bool:
        return dup.duplicate_of is not None and dup.duplicate_of in self.loaded


STATE_SQL = """
SELECT file_version_id, path, sha256, size_bytes, mtime, status, coalesce(retry, false),
       coalesce(current_since, first_seen_at),
       json_extract_string(detail, '$.duplicate_of_id'), error_message
FROM ops.file_ledger
{where}
ORDER BY coalesce(current_since, first_seen_at), path
"""


def ledger_state(
    conn: duckdb.DuckDBPyConnection,
    paths: Iterable[str] | None = None,
    shas: Iterable[str] | None = None,
) -> LedgerState:
    """The whole ledger, or (``paths``/``shas`` given) the versions at those paths or with
    those bytes: what the state answers about them is the same, for far fewer rows read
    (10x city: 166,000 versions, 1.2 s)."""
    where, params = "", None
    if paths is not None or shas is not None:
        where = "WHERE path IN (SELECT unnest($paths)) OR sha256 IN (SELECT unnest($shas))"
        params = {"paths": sorted(set(paths or ())), "shas": sorted(set(shas or ()))}
    state = LedgerState({}, {}, {}, {})
    for row in conn.execute(STATE_SQL.format(where=where), params).fetchall():
        known = Known(*row)
        state.latest[known.path] = known  # ordered by current_since: the last one wins
        state.versions[(known.path, known.sha256)] = known
        if known.status == "loaded":
            state.loaded[known.file_version_id] = known
            state.loaded_sha.setdefault(known.sha256, known)
    return state


def insert_ledger_rows(conn: duckdb.DuckDBPyConnection, rows: list[LedgerRow]) -> None:
    """One INSERT from Arrow for many rows, not a parameterised INSERT per file (too slow for a
    city-year's files: bench/RESULTS.md, city entry of 936fa39). A row whose version is already
    in the ledger (a retried failure, a revert, a promoted duplicate) replaces it."""
    if not rows:
        return
    columns = list(zip(*(r.values() for r in rows), strict=True))
    conn.register(
        "lk_ledger", pa.table({c: list(v) for c, v in zip(LEDGER_COLUMNS, columns, strict=True)})
    )
    try:
        names = ", ".join(LEDGER_COLUMNS)
        casts = ", ".join(f"CAST({c} AS {t})" for c, t in LEDGER_COLUMNS.items())
        conn.execute(
            "DELETE FROM ops.file_ledger WHERE file_version_id IN "
            "(SELECT file_version_id FROM lk_ledger)"
        )
        conn.execute(f"INSERT INTO ops.file_ledger ({names}) SELECT {casts} FROM lk_ledger")
    finally:
        conn.unregister("lk_ledger")


def make_current(conn: duckdb.DuckDBPyConnection, rows: list[LedgerRow]) -> None:
    """The rows just written are what their paths hold now: the path's other loaded or
    duplicate version is superseded by it, and its open failures are fixed by it. A failed
    row replaces nothing (the last good content keeps counting)."""
    winners = [(r.path, r.file_version_id) for r in rows if r.status in ("loaded", "duplicate")]
    if not winners:
        return
    conn.register(
        "lk_current", pa.table({"path": [p for p, _ in winners], "id": [i for _, i in winners]})
    )
    try:
        conn.execute("""
            UPDATE ops.file_ledger AS l SET status = 'superseded', superseded_by = c.id
            FROM lk_current AS c
            WHERE l.path = c.path AND l.file_version_id <> c.id
              AND l.status IN ('loaded', 'duplicate')""")
        conn.execute("""
            UPDATE ops.file_ledger AS l SET superseded_by = c.id, retry = false
            FROM lk_current AS c
            WHERE l.path = c.path AND l.file_version_id <> c.id
              AND l.status = 'failed' AND l.superseded_by IS NULL""")
        # a fixed failure has nothing left set aside
        conn.execute("""
            DELETE FROM ops.quarantine AS q USING lk_current AS c
            WHERE q.source_path = c.path AND q.reason_code = 'file_failed'""")
    finally:
        conn.unregister("lk_current")


def reactivate(conn: duckdb.DuckDBPyConnection, known: Known, run_id: str, now: datetime) -> None:
    """A path is back to bytes it held before (a revert): that version counts again."""
    conn.execute(
        "UPDATE ops.file_ledger SET status = 'loaded', superseded_by = NULL, current_since = ?,"
        " run_id = ?, detail = json_merge_patch(detail, json_object('reactivated_at', ?::VARCHAR))"
        " WHERE file_version_id = ?",
        [now, run_id, now, known.file_version_id],
    )
    row = LedgerRow(
        path=known.path,
        sha256=known.sha256,
        size_bytes=None,
        mtime=None,
        record_type=None,
        first_seen_at=now,
        run_id=run_id,
    )
    make_current(conn, [row])


def touch(
    conn: duckdb.DuckDBPyConnection,
    known: Known,
    size: int,
    mtime: datetime,
    now: datetime | None = None,
) -> None:
    """Same bytes at the path, newer stat (a copy with a new mtime): remember the stat so the
    next run need not hash the file again; with `now`, the version is the path's latest."""
    conn.execute(
        "UPDATE ops.file_ledger SET size_bytes = ?, mtime = ?, "
        "current_since = coalesce(?, current_since) WHERE file_version_id = ?",
        [size, mtime, now, known.file_version_id],
    )


def record_failure(conn: duckdb.DuckDBPyConnection, row: LedgerRow, message: str) -> None:
    """A failed file version: one ledger row with zero counts and one file_failed quarantine
    row, in one transaction. Replaces an earlier failure of the same version."""
    row.status, row.error_message = "failed", message
    row.rows_read = row.rows_landed = row.rows_quarantined = row.lines_skipped = 0
    row.loaded_at = row.first_seen_at
    row.current_since = row.current_since or row.first_seen_at
    qid = f"landing:{row.record_type}:{row.sha256 or ''}:{row.path}:file"
    conn.execute("BEGIN TRANSACTION")
    try:
        insert_ledger_rows(conn, [row])
        conn.execute("DELETE FROM ops.quarantine WHERE quarantine_id = ?", [qid])
        conn.execute(
            "INSERT INTO ops.quarantine (quarantine_id, stage, record_type, source_path, "
            "file_sha256, reason_code, message, run_id, quarantined_at, station_text) "
            "VALUES (?, 'landing', ?, ?, ?, 'file_failed', ?, ?, ?, ?)",
            [
                qid,
                row.record_type,
                row.path,
                row.sha256,
                f"{row.path}: {message}",
                row.run_id,
                row.first_seen_at,
                row.detail.get("path_station"),
            ],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
