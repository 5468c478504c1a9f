"""Stage data rows of many files in one Arrow batch, type them in DuckDB (rules.py) and land.

Batching across files matters: a DuckDB statement costs milliseconds to plan, a file may hold a
few hundred rows, and the benchmark lands thousands of files. Files still land all-or-nothing:
rows of a file only reach DuckDB in the transaction that also writes its ledger row.
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.landing.readers import RowBatch
from pipelines.landing.rules import statements
from pipelines.landing.schema import FIELDS

EXTRA_TYPE = pa.map_(pa.string(), pa.string())


@dataclass
class Context:
    """Constants of one chunk: one sheet segment of one file version."""

    record_type: str
    path: str
    sha256: str
    sheet: str | None
    exported_at: datetime
    first_seen_at: datetime
    station: str | None  # fallback when the row has no station of its own
    station_source: str | None  # 'title' or 'path'
    mapping_version: str
    run_id: str

    @property
    def where(self) -> str:
        return self.path + (f" sheet {self.sheet}" if self.sheet else "")


@dataclass
class Staged:
    chunk: RowBatch
    ctx: Context
    owner: object  # whatever the caller uses to add up counts (a ledger row)


@dataclass
class Reject:
    owner: object
    ctx: Context
    line: int
    code: str
    message: str
    raw_values: str
    station_text: str | None = None
    record_date: object = None


@dataclass
class Stager:
    record_type: str
    items: list[Staged] = field(default_factory=list)
    rows: int = 0

    def add(self, chunk: RowBatch, ctx: Context, owner: object) -> None:
        if len(chunk):
            self.items.append(Staged(chunk, ctx, owner))
            self.rows += len(chunk)

    def clear(self) -> None:
        self.items, self.rows = [], 0


_FULL_WIDTH = "[\uff01-\uff5e\u3000]"
_NULL = pa.scalar(None, pa.string())


def _clean(values: pa.Array, half: bool) -> pa.Array:
    """Trim, empty -> NULL; text fields lose full-width spaces, other fields (ids, dates,
    numbers, flags) go through NFKC. Arrow kernels: DuckDB string functions cost more here."""
    if half:
        wide = pc.fill_null(pc.match_substring_regex(values, _FULL_WIDTH), False)
        if pc.any(wide).as_py():  # rare: NFKC in Python for the matching values only
            fixed = [unicodedata.normalize("NFKC", v) for v in values.filter(wide).to_pylist()]
            values = pc.replace_with_mask(values, wide, pa.array(fixed, pa.string()))
    else:
        values = pc.replace_substring(values, "\u3000", "")
    values = pc.utf8_trim(values, " \t\r\n\xa0")
    return pc.if_else(pc.equal(values, ""), _NULL, values)


def _strings(values) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values, pa.string())


def _extra_array(chunk: RowBatch, columns: list) -> pa.Array:
    n, extras = len(chunk), chunk.layout.extras
    if not extras or not n:
        return pa.nulls(n, EXTRA_TYPE)
    names = [chunk.layout.headers[i] for i in extras]
    keys = pa.array(names * n, pa.string())
    stacked = pa.concat_arrays([_strings(columns[i]) for i in extras])
    order = (np.arange(n)[:, None] + np.arange(len(extras))[None, :] * n).ravel()
    items = stacked.take(pa.array(order))
    items = pc.if_else(pc.equal(items, ""), pa.scalar(None, pa.string()), items)
    offsets = pa.array(np.arange(0, n * len(extras) + 1, len(extras), dtype=np.int32))
    return pa.MapArray.from_arrays(offsets, keys, items)


def _to_arrow(record_type: str, chunk: RowBatch, cid: int, pos0: int) -> pa.RecordBatch:
    n, layout = len(chunk), chunk.layout
    columns = chunk.column_values()
    malformed = np.zeros(n, dtype=bool)
    ncells = np.full(n, layout.width, dtype=np.int32)
    span: list[str | None] = [None] * n
    for i, (cells, _, note) in chunk.malformed.items():
        malformed[i], ncells[i], span[i] = True, cells, note or None
    oversized: list[str | None] = [None] * n
    for i, note in chunk.oversized.items():
        oversized[i] = note
    data = {
        "_pos": pa.array(np.arange(pos0, pos0 + n, dtype=np.int64)),
        "_cid": pa.array(np.full(n, cid, dtype=np.int32)),
        "_line": pa.array(np.asarray(chunk.lines, dtype=np.int32)),
        "_malformed": pa.array(malformed),
        "_ncells": pa.array(ncells),
        "_oversized": pa.array(oversized, pa.string()),
        "_span": pa.array(span, pa.string()),
    }
    for name in FIELDS[record_type]:
        idx = layout.fields.get(name)
        data[f"t_{name}"] = pa.nulls(n, pa.string()) if idx is None else _strings(columns[idx])
    data["_extra"] = _extra_array(chunk, columns)
    return pa.RecordBatch.from_pydict(data)


def _staged_table(record_type: str, batches: list[pa.RecordBatch]) -> pa.Table:
    """All chunks as one table, text fields cleaned once over the whole of it (one Arrow call
    per column instead of one per column per file: most files are small)."""
    table = pa.Table.from_batches(batches)
    for name, kind in FIELDS[record_type].items():
        i = table.schema.get_field_index(f"t_{name}")
        values = table.column(i).combine_chunks()
        table = table.set_column(
            i, f"t_{name}", _clean(values, half=kind not in ("text", "station"))
        )
    return table


def _ctx_table(record_type: str, contexts: list[tuple[Context, RowBatch]]) -> pa.Table:
    rows: dict[str, list] = {
        k: []
        for k in (
            "_cid",
            "path",
            "sha256",
            "sheet",
            "where_",
            "exported_at",
            "exported_day",
            "first_seen_at",
            "station_fb",
            "station_src",
            "mapping_version",
            "run_id",
            "width",
        )
    }
    headers: dict[str, list] = {f"h_{name}": [] for name in FIELDS[record_type]}
    for cid, (ctx, chunk) in enumerate(contexts):
        values = (
            cid,
            ctx.path,
            ctx.sha256,
            ctx.sheet,
            ctx.where,
            ctx.exported_at,
            ctx.exported_at.date(),
            ctx.first_seen_at,
            ctx.station,
            ctx.station_source if ctx.station else None,
            ctx.mapping_version,
            ctx.run_id,
            chunk.layout.width,
        )
        for key, value in zip(rows, values, strict=True):
            rows[key].append(value)
        for name in FIELDS[record_type]:
            idx = chunk.layout.fields.get(name)
            headers[f"h_{name}"].append(name if idx is None else chunk.layout.headers[idx])
    table = pa.table({**rows, **headers})
    return table.cast(
        table.schema.set(
            table.schema.get_field_index("exported_day"), pa.field("exported_day", pa.date32())
        )
    )


def raw_values(chunk: RowBatch, index: int) -> str:
    """JSON of the raw cells by raw header; cells beyond the header kept under a reserved key."""
    cells = chunk.cells(index)
    values = {h: (c if c != "" else None) for h, c in zip(chunk.layout.headers, cells, strict=True)}
    overflow = chunk.malformed.get(index, (0, None))[1]
    if overflow is not None:
        values["_cells_beyond_header"] = json.loads(overflow)
    return json.dumps(values, ensure_ascii=False)


def type_and_land(conn: duckdb.DuckDBPyConnection, stager: Stager) -> list[Reject]:
    """Land the passing rows of everything staged; return the rejects (not yet stored).
    Runs inside the caller's transaction."""
    if not stager.items:
        return []
    record_type = stager.record_type
    batches, starts, pos = [], [], 0
    for cid, item in enumerate(stager.items):
        batches.append(_to_arrow(record_type, item.chunk, cid, pos))
        starts.append(pos)
        pos += len(item.chunk)
    conn.register("lk_batch", _staged_table(record_type, batches))
    conn.register("lk_ctx", _ctx_table(record_type, [(i.ctx, i.chunk) for i in stager.items]))
    try:
        sql = statements(record_type)
        for step in ("typed", "rejects", "landed"):
            conn.execute(sql[step])
        found = conn.execute(
            "SELECT _pos, code, message, station_text, record_date FROM lk_rejects ORDER BY _pos"
        ).fetchall()
        conn.execute("DROP VIEW lk_typed")
    finally:
        conn.unregister("lk_batch")
        conn.unregister("lk_ctx")
    rejects = []
    for position, code, message, station, day in found:
        cid = bisect.bisect_right(starts, position) - 1
        item = stager.items[cid]
        index = position - starts[cid]
        rejects.append(
            Reject(
                item.owner,
                item.ctx,
                int(item.chunk.lines[index]),
                code,
                message,
                raw_values(item.chunk, index),
                station,
                day,
            )
        )
    return rejects


def quarantine_id(ctx: Context, line: int) -> str:
    return f"landing:{ctx.record_type}:{ctx.sha256}:{ctx.path}:{ctx.sheet or ''}:{line}"


def insert_rejects(conn: duckdb.DuckDBPyConnection, rejects: list[Reject], now: datetime) -> None:
    if not rejects:
        return
    table = pa.table(
        {
            "quarantine_id": [quarantine_id(r.ctx, r.line) for r in rejects],
            "stage": ["landing"] * len(rejects),
            "record_type": [r.ctx.record_type for r in rejects],
            "source_path": [r.ctx.path for r in rejects],
            "file_sha256": [r.ctx.sha256 for r in rejects],
            "sheet": pa.array([r.ctx.sheet for r in rejects], pa.string()),
            "line_number": pa.array([r.line for r in rejects], pa.int32()),
            "reason_code": [r.code for r in rejects],
            "message": [r.message for r in rejects],
            "raw_values": [r.raw_values for r in rejects],
            "run_id": [r.ctx.run_id for r in rejects],
            "quarantined_at": [now] * len(rejects),
            "station_text": pa.array([r.station_text for r in rejects], pa.string()),
            "record_date": pa.array([r.record_date for r in rejects], pa.date32()),
        }
    )
    conn.register("lk_rejected", table)
    try:
        names = ", ".join(table.column_names)
        conn.execute(
            f"INSERT INTO ops.quarantine ({names}) SELECT * REPLACE "
            "(raw_values::JSON AS raw_values) FROM lk_rejected"
        )
    finally:
        conn.unregister("lk_rejected")
