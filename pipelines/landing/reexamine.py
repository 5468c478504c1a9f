"""Re-examine landing-stage quarantine: rows that pass the current rules leave quarantine.

What is stored is enough to replay a row: ops.quarantine.raw_values holds the raw cells by raw
header, and the ledger detail of the file version holds, per sheet segment, the header line,
the raw headers, the export time and the station fallback. A replay maps the stored headers
with the *current* header_mapping.yml and applies the *current* rules (the same SQL).

Replays only run when their outcome can differ: when the mapping version or RULES_VERSION
differs from the `examined_with` stamp in the ledger detail. Not replayed: malformed_row (cell
positions are gone), oversized_field (the long cell was cut) and file_failed: the station
must send a fixed file, which is a new version. Released rows land with the current run id and
mapping version; the ledger row of their file moves them from rows_quarantined to rows_landed,
so the invariant still holds.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from pipelines.faults import checkpoint
from pipelines.landing.mapping import HeaderMapping
from pipelines.landing.readers import RowBatch, make_layout
from pipelines.landing.stage import Context, Stager, type_and_land

PENDING_SQL = """
SELECT l.file_version_id, l.path, l.sha256, l.first_seen_at, l.detail,
       q.sheet, q.line_number, q.raw_values
FROM ops.quarantine q
JOIN ops.file_ledger l
  ON l.path = q.source_path AND l.sha256 = q.file_sha256 AND l.status = 'loaded'
WHERE q.stage = 'landing' AND q.record_type = $rt
  AND q.reason_code NOT IN ('file_failed', 'malformed_row', 'oversized_field')
  AND coalesce(json_extract_string(l.detail, '$.examined_with'), '') <> $stamp
ORDER BY l.file_version_id, q.sheet, q.line_number
"""


def _segment(detail: dict, sheet: str | None, line: int) -> dict | None:
    for s in detail.get("sheets", []):
        if s.get("sheet") == sheet and s.get("status") == "loaded":
            earlier = [g for g in s["segments"] if g["header_line"] < line]
            return earlier[-1] if earlier else None
    return None


def _stage(record_type: str, mapping: HeaderMapping, run_id: str, pending: list) -> Stager:
    stager = Stager(record_type)
    chunks: dict[tuple, tuple[RowBatch, Context]] = {}
    for version_id, path, sha, first_seen, detail, sheet, line, raw in pending:
        segment = _segment(json.loads(detail), sheet, line)
        if segment is None:
            continue
        key = (version_id, sheet, segment["header_line"])
        if key not in chunks:
            headers = segment["headers"]
            fields = mapping.header_fields(record_type, headers)
            if not mapping.is_header(record_type, fields):
                continue  # the mapping no longer recognises this header: the rows stay held
            ctx = Context(
                record_type=record_type,
                path=path,
                sha256=sha,
                sheet=sheet,
                exported_at=datetime.fromisoformat(segment["exported_at"]),
                first_seen_at=first_seen,
                station=segment["station"],
                station_source=segment["station_source"],
                mapping_version=mapping.version,
                run_id=run_id,
            )
            chunks[key] = (RowBatch(make_layout(segment["header_line"], headers, fields)), ctx)
        chunk, _ = chunks[key]
        values = json.loads(raw) if raw else {}
        chunk.lines.append(line)
        chunk.rows.append(
            ["" if values.get(h) is None else str(values[h]) for h in chunk.layout.headers]
        )
    for (version_id, _, _), (chunk, ctx) in chunks.items():
        stager.add(chunk, ctx, version_id)
    return stager


def reexamine(
    conn: duckdb.DuckDBPyConnection, record_type: str, mapping: HeaderMapping, run_id: str
) -> int:
    """Replay stale landing rejects of one record type; returns the number released."""
    from pipelines.landing.read import examined_with

    stamp = examined_with(mapping)
    pending = conn.execute(PENDING_SQL, {"rt": record_type, "stamp": stamp}).fetchall()
    stager = _stage(record_type, mapping, run_id, pending)
    released = 0
    conn.execute("BEGIN TRANSACTION")
    try:
        if stager.items:
            still = {(r.ctx.sha256, r.ctx.sheet, r.line) for r in type_and_land(conn, stager)}
            for item in stager.items:
                lines = [
                    line
                    for line in item.chunk.lines
                    if (item.ctx.sha256, item.ctx.sheet, line) not in still
                ]
                if not lines:
                    continue
                conn.execute(
                    "DELETE FROM ops.quarantine WHERE stage = 'landing' AND source_path = $p "
                    "AND file_sha256 = $s AND sheet IS NOT DISTINCT FROM $sheet "
                    "AND list_contains($lines, line_number)",
                    {
                        "p": item.ctx.path,
                        "s": item.ctx.sha256,
                        "sheet": item.ctx.sheet,
                        "lines": lines,
                    },
                )
                conn.execute(
                    "UPDATE ops.file_ledger SET rows_landed = rows_landed + $n, "
                    "rows_quarantined = rows_quarantined - $n "
                    "WHERE file_version_id = $v",
                    {"n": len(lines), "v": item.owner},
                )
                released += len(lines)
        conn.execute(
            "UPDATE ops.file_ledger SET detail = json_merge_patch(detail, json_object("
            "'examined_with', $stamp)) WHERE record_type = $rt AND status = 'loaded' "
            "AND coalesce(json_extract_string(detail, '$.examined_with'), '') <> $stamp",
            {"stamp": stamp, "rt": record_type},
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    checkpoint("landing.commit")
    return released
