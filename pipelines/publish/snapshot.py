"""Write one table of the working warehouse as zstd Parquet under a snapshot folder.

Large fact tables (name `fct_*` with a DATE or TIMESTAMP column) are Hive-partitioned by month
(`<table>/month=YYYY-MM/part_0.parquet`); every other table is one file
(`<table>/part_0.parquet`). The partition column lives only in the folder names: the files
hold exactly the source columns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

VERSION_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9]{1,8}$")
_VERSION_TS = "%Y%m%dT%H%M%S.%fZ"
ROW_ALIAS = "__publish_row__"


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote a string literal."""
    return "'" + text.replace("'", "''") + "'"


def new_version(run_id: str, existing: list[str], now: datetime | None = None) -> str:
    """UTC timestamp (microseconds) + short run id: sortable as text, unique, and strictly
    greater than every existing version even if the clock stepped back."""
    ts = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    if existing:
        newest = datetime.strptime(max(existing).split("-")[0], _VERSION_TS)
        if ts <= newest:
            ts = newest + timedelta(microseconds=1)
    short = re.sub(r"[^A-Za-z0-9]", "", run_id)[:8] or "run"
    return f"{ts.strftime(_VERSION_TS)}-{short}"


def is_version(text: str) -> bool:
    return bool(VERSION_RE.match(text))


@dataclass(frozen=True)
class TablePlan:
    table: str
    relation: str  # SQL relation in the source connection, e.g. "marts"."fct_x"
    columns: list[tuple[str, str]]  # (name, DuckDB type) as in the source
    partition_source: str | None  # date column the month partition is derived from
    partition_column: str | None  # folder key, e.g. "month"
    write_casts: dict[str, str] = field(default_factory=dict)  # column -> type in Parquet

    @property
    def schema_text(self) -> str:
        return "|".join(f"{n}:{t}" for n, t in self.columns)


def describe(conn: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def plan_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    source_schema: str,
    partition_by: Mapping[str, str | None] | None = None,
) -> TablePlan:
    relation = f"{q(source_schema)}.{q(table)}"
    # `_`-prefixed columns are the models' incremental bookkeeping, not data: not published
    columns = [c for c in describe(conn, relation) if not c[0].startswith("_")]
    names = [n for n, _ in columns]
    if partition_by is not None and table in partition_by:
        source = partition_by[table]
    elif table.startswith("fct_"):
        dates = [n for n, t in columns if t == "DATE"]
        stamps = [n for n, t in columns if t.startswith("TIMESTAMP")]
        source = (dates or stamps or [None])[0]
    else:
        source = None
    if source is not None and source not in names:
        raise ValueError(f"{table}: partition column {source!r} not in {names}")
    part_col = None
    if source is not None:
        part_col = "month" if "month" not in names else "_publish_month"
    return TablePlan(table, relation, columns, source, part_col,
                     _wide_integer_casts(conn, relation, columns))


def _wide_integer_casts(conn: duckdb.DuckDBPyConnection, relation: str,
                        columns: list[tuple[str, str]]) -> dict[str, str]:
    """DuckDB writes HUGEINT/UHUGEINT to Parquet as DOUBLE (lossy past 2**53). Write them as
    BIGINT when every value fits (Parquet readers get int64), else DECIMAL(38,0); the catalog's
    views cast back to the source type."""
    wide = [n for n, t in columns if t in ("HUGEINT", "UHUGEINT")]
    if not wide:
        return {}
    bounds = conn.execute("SELECT " + ", ".join(
        f"min({q(n)}) >= -9223372036854775808 AND max({q(n)}) <= 9223372036854775807"
        for n in wide) + f" FROM {relation}").fetchone()
    return {n: "BIGINT" if fits in (True, None) else "DECIMAL(38,0)"
            for n, fits in zip(wide, bounds, strict=True)}


def select_list(columns: list[tuple[str, str]], casts: Mapping[str, str] | None = None) -> str:
    casts = casts or {}
    return ", ".join(
        f"CAST({q(n)} AS {casts[n]}) AS {q(n)}" if n in casts else q(n) for n, _ in columns
    )


def content_hash(conn: duckdb.DuckDBPyConnection, relation_sql: str,
                 columns: list[tuple[str, str]], casts: Mapping[str, str] | None = None
                 ) -> tuple[int, str]:
    """Row count and an order-independent hash of the rows (and the schema): the sum and the
    xor of a 128-bit md5 of each row's text, so reordering rows or files does not change it,
    while any changed, added or removed row does."""
    sql = (
        f"SELECT count(*), "
        f"coalesce(sum(md5_number_lower(CAST({ROW_ALIAS} AS VARCHAR))::HUGEINT), 0), "
        f"coalesce(bit_xor(md5_number_upper(CAST({ROW_ALIAS} AS VARCHAR))), 0) "
        f"FROM (SELECT {select_list(columns, casts)} FROM {relation_sql}) {ROW_ALIAS}"
    )
    rows, total, xor = conn.execute(sql).fetchone()
    schema = "|".join(f"{n}:{t}" for n, t in columns)
    digest = hashlib.sha256(f"{schema}\n{rows}\n{total}\n{xor}".encode()).hexdigest()
    return int(rows), digest


def parquet_relation(files: list[Path]) -> str:
    listed = ", ".join(lit(str(f)) for f in files)
    return f"read_parquet([{listed}], hive_partitioning = false)"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_table(conn: duckdb.DuckDBPyConnection, plan: TablePlan, rows: int,
                dest: Path) -> list[Path]:
    """COPY the table to `dest` (a folder that must not exist). Returns the files written."""
    dest.mkdir(parents=True)
    columns = select_list(plan.columns, plan.write_casts)
    order = " ORDER BY ALL" if plan.columns else ""
    if plan.partition_source is not None and rows > 0:
        month = (f"coalesce(strftime({q(plan.partition_source)}, '%Y-%m'), 'unknown') "
                 f"AS {q(plan.partition_column)}")
        conn.execute(
            f"COPY (SELECT {columns}, {month} FROM {plan.relation}{order}) "
            f"TO {lit(str(dest))} (FORMAT parquet, COMPRESSION zstd, "
            f"PARTITION_BY ({q(plan.partition_column)}), FILENAME_PATTERN 'part_{{i}}')"
        )
    else:
        conn.execute(
            f"COPY (SELECT {columns} FROM {plan.relation}{order}) "
            f"TO {lit(str(dest / 'part_0.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
        )
    return sorted(p for p in dest.rglob("*.parquet") if p.is_file())


def parquet_columns(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> list[tuple[str, str]]:
    return describe(conn, parquet_relation(files))


def file_rows(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str, int]:
    listed = ", ".join(lit(str(f)) for f in files)
    out = conn.execute(
        f"SELECT file_name, num_rows FROM parquet_file_metadata([{listed}])"
    ).fetchall()
    return {str(name): int(n) for name, n in out}
