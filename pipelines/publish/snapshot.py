"""Write one table of the working warehouse as zstd Parquet under a snapshot folder.

Large fact tables (name `fct_*` with a DATE or TIMESTAMP column) are Hive-partitioned by month
(`<table>/month=YYYY-MM/part_0.parquet`); every other table is one file
(`<table>/part_0.parquet`). The partition column lives only in the folder names: the files
hold exactly the source columns.

Content hashes (`hash_parts`) are computed per month in one pass, so a publish can tell which
months changed and rewrite only those (see publisher._write_snapshot).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sqltext import ident as q
from pipelines.sqltext import literal as lit

VERSION_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9]{1,8}$")
_VERSION_TS = "%Y%m%dT%H%M%S.%fZ"


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
    schema: str = "marts"  # the schema its catalog view is in (the source schema)

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
    """`table` is a name in `source_schema`, or `schema.name` for a table of another schema
    (published in the catalog under that schema; names are unique across schemas)."""
    if "." in table:
        source_schema, table = table.split(".", 1)
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
    return TablePlan(
        table,
        relation,
        columns,
        source,
        part_col,
        _wide_integer_casts(conn, relation, columns),
        source_schema,
    )


def _wide_integer_casts(
    conn: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]
) -> dict[str, str]:
    """DuckDB writes HUGEINT/UHUGEINT to Parquet as DOUBLE (lossy past 2**53). Write them as
    BIGINT when every value fits (Parquet readers get int64), else DECIMAL(38,0); the catalog's
    views cast back to the source type."""
    wide = [n for n, t in columns if t in ("HUGEINT", "UHUGEINT")]
    if not wide:
        return {}
    bounds = conn.execute(
        "SELECT "
        + ", ".join(
            f"min({q(n)}) >= -9223372036854775808 AND max({q(n)}) <= 9223372036854775807"
            for n in wide
        )
        + f" FROM {relation}"
    ).fetchone()
    return {
        n: "BIGINT" if fits in (True, None) else "DECIMAL(38,0)"
        for n, fits in zip(wide, bounds, strict=True)
    }


def select_list(columns: list[tuple[str, str]], casts: Mapping[str, str] | None = None) -> str:
    casts = casts or {}
    return ", ".join(
        f"CAST({q(n)} AS {casts[n]}) AS {q(n)}" if n in casts else q(n) for n, _ in columns
    )


# Each row's DuckDB hash() over its native values: 64 bits, far cheaper than an md5 of the row's
# text (measured when it replaced md5: bench/RESULTS.md, city entry of b410182). The row count, the
# sum and the xor of the row hashes make the partial; a changed, added or removed row changes it.
# hash() is only stable within one DuckDB version, so the version is part of every digest: after an
# upgrade no digest matches and every month is written again (never a stale month kept).
HASH_METHOD = f"duckdb {duckdb.__version__} hash()"

Partial = tuple[int, int, int]  # (rows, sum of the row hashes, xor of the row hashes)


def hash_parts(
    conn: duckdb.DuckDBPyConnection,
    relation_sql: str,
    columns: list[tuple[str, str]],
    casts: Mapping[str, str] | None = None,
    key_sql: str = "''",
    where: str = "",
) -> dict[str, Partial]:
    """One pass over `relation_sql` (its rows matching `where`, if given): for every value of
    `key_sql` (a month, a file name) the row count and the raw sum/xor of the rows' hashes (see
    content_hash). Sums and xors add up, so the partials of the parts combine into exactly the
    hash of the whole."""
    casts = casts or {}
    fields = ", ".join(
        f"{q(n)} := CAST({q(n)} AS {casts[n]})" if n in casts else f"{q(n)} := {q(n)}"
        for n, _ in columns
    )
    sql = (
        "SELECT __publish_key__, count(*), sum(__publish_hash__::HUGEINT), "
        "bit_xor(__publish_hash__) "
        f"FROM (SELECT {key_sql} AS __publish_key__, "
        f"hash(struct_pack({fields})) AS __publish_hash__ "
        f"FROM {relation_sql}{f' WHERE {where}' if where else ''}) GROUP BY __publish_key__"
    )
    return {
        str(key): (int(n), int(total), int(xor))
        for key, n, total, xor in conn.execute(sql).fetchall()
    }


def combine(partials: Iterable[Partial]) -> Partial:
    rows, total, xor = 0, 0, 0
    for n, t, x in partials:
        rows, total, xor = rows + n, total + t, xor ^ x
    return rows, total, xor


def digest(columns: list[tuple[str, str]], partial: Partial) -> str:
    """The published content hash of a table, a month or a file: method + schema + partial."""
    schema = "|".join(f"{n}:{t}" for n, t in columns)
    rows, total, xor = partial
    text = f"{HASH_METHOD}\n{schema}\n{rows}\n{total}\n{xor}"
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(
    conn: duckdb.DuckDBPyConnection,
    relation_sql: str,
    columns: list[tuple[str, str]],
    casts: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Row count and an order-independent hash of the rows (and the schema): the sum and the
    xor of each row's hash, so reordering rows or files does not change it, while any changed,
    added or removed row does."""
    whole = combine(hash_parts(conn, relation_sql, columns, casts).values())
    return whole[0], digest(columns, whole)


def month_sql(plan: TablePlan) -> str:
    """The partition value of a row: its month, or 'unknown' without a date."""
    return f"coalesce(strftime({q(plan.partition_source)}, '%Y-%m'), 'unknown')"


FILE_COLUMN = "__publish_file__"  # `_`-prefixed: never a published column


def parquet_relation(files: list[Path], *, with_filename: bool = False) -> str:
    listed = ", ".join(lit(str(f)) for f in files)
    extra = f", filename = {lit(FILE_COLUMN)}" if with_filename else ""
    return f"read_parquet([{listed}], hive_partitioning = false{extra})"


def _key_unique(conn: duckdb.DuckDBPyConnection, plan: TablePlan) -> bool:
    first = q(plan.columns[0][0])
    return conn.execute(
        f"SELECT count(*) = count(DISTINCT {first}) FROM {plan.relation}"
    ).fetchone()[0]


def _order_by(unique: bool, plan: TablePlan) -> str:
    """ORDER BY ALL makes the files' row order deterministic, but sorts on every column. When
    the first column is unique over a file's rows (the usual key column), ordering by it
    alone gives the very same order: a COPY of 10 M rows takes about a third less CPU, for a
    count(DISTINCT) of one column (~1/20 of the COPY)."""
    if not plan.columns:
        return ""
    return f" ORDER BY {q(plan.columns[0][0])}" if unique else " ORDER BY ALL"


def _months(
    conn: duckdb.DuckDBPyConnection, plan: TablePlan, months: list[str] | None
) -> list[tuple[str, bool]]:
    """The months to write (every month when None), each with whether the first column is
    unique within it."""
    month, first = month_sql(plan), q(plan.columns[0][0])
    select = f"SELECT {month} AS m, count(*) = count(DISTINCT {first}) FROM {plan.relation}"
    if months is None:
        return conn.execute(f"{select} GROUP BY m ORDER BY m").fetchall()
    # month by month, each by its date range: DuckDB then skips the other row groups, which
    # it does not for the months' ranges OR'ed (10x city: 4 s -> 0.2 s a night)
    return sorted(
        row
        for m in months
        for row in conn.execute(f"{select} WHERE {_month_filter(plan, m)} GROUP BY m").fetchall()
    )


def _month_filter(plan: TablePlan, month: str) -> str:
    """The rows of one month. A range on the date column first: DuckDB prunes row groups by
    it and skips formatting every row's date (a city year's 15 months written in 11.3 s
    against 17.1 s with the month expression alone); the month expression keeps it exact."""
    source = q(plan.partition_source)
    exact = f"{month_sql(plan)} = {lit(month)}"
    kind = dict(plan.columns)[plan.partition_source]
    if month == "unknown":
        return f"{source} IS NULL AND {exact}"
    # a zone's month need not be the range's; a year past 9999 is no DATE literal
    if kind not in ("DATE", "TIMESTAMP") or not re.fullmatch(r"\d{4}-\d{2}", month):
        return exact
    start = f"DATE {lit(month + '-01')}"
    return f"{source} >= {start} AND {source} < {start} + INTERVAL 1 MONTH AND {exact}"


def file_layout(plan: TablePlan, rows: int) -> dict[str, str] | None:
    """How the table is split into files: by month (facts with rows) or one file (None)."""
    if plan.partition_source is None or rows == 0:
        return None
    return {"column": plan.partition_column, "from": plan.partition_source, "granularity": "month"}


def reusable_files(
    current: dict[str, Any] | None, plan: TablePlan, layout: dict[str, str] | None
) -> dict[str, dict[str, Any]]:
    """Files of the current snapshot the new one may hard-link instead of writing, by partition
    ('' for a one-file table). Only from a snapshot written by the same DuckDB version with the
    same layout, columns and write casts, so a linked file has exactly the Parquet schema a new
    one would; and only files that carry their own content hash (manifests written before
    per-file hashes have none: then everything is rewritten)."""
    if current is None or current.get("duckdb_version") != duckdb.__version__:
        return {}
    info = current["tables"].get(plan.table)
    if info is None or info.get("partitioned_by") != layout:
        return {}
    columns = info.get("columns", [])
    if [(c["name"], c["type"]) for c in columns] != list(plan.columns):
        return {}
    if any(
        c.get("parquet_type") != plan.write_casts[c["name"]]
        for c in columns
        if c["name"] in plan.write_casts
    ):
        return {}
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for entry in info["files"]:
        by_partition.setdefault(entry.get("partition", ""), []).append(entry)
    return {
        key: entries[0]
        for key, entries in by_partition.items()
        if len(entries) == 1 and "content_sha256" in entries[0]
    }


def months_filter(plan: TablePlan, months: Iterable[str]) -> str:
    """The rows of any of `months` (each by its range, see _month_filter)."""
    return " OR ".join(f"({_month_filter(plan, m)})" for m in sorted(months)) or "false"


def view_sha256(conn: duckdb.DuckDBPyConnection, plan: TablePlan) -> str | None:
    """The sha256 of the SQL of the view `plan` reads (None: a table, not a view)."""
    row = conn.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = ? AND view_name = ?",
        [plan.schema, plan.table],
    ).fetchone()
    return hashlib.sha256(row[0].encode()).hexdigest() if row else None


def month_stamps(
    conn: duckdb.DuckDBPyConnection, plan: TablePlan, stamp: str
) -> dict[str, tuple[int, str | None]]:
    """Per month: the row count and the largest value of the row stamp `stamp` (as text). Two
    columns, not every column as the content hash reads. A DATE is counted per day first (a
    perfect hash over a few thousand days) and the days added up to months, a TIMESTAMP
    grouped by date_trunc, and only the groups are formatted (10x city: 2.2 s -> 0.7 s with
    date_trunc per row); other types by the month expression itself."""
    source = q(plan.partition_source)
    kind = dict(plan.columns)[plan.partition_source]
    relation = plan.relation
    if kind == "DATE":
        relation = (
            f"(SELECT {source}, count(*) AS n, max({q(stamp)}) AS s FROM {plan.relation} "
            f"GROUP BY {source})"
        )
        count, largest = "sum(n)", "max(s)"
    else:
        count, largest = "count(*)", f"max({q(stamp)})"
    group, key = month_sql(plan), "m"
    if kind in ("DATE", "TIMESTAMP"):
        group, key = f"date_trunc('month', {source})", "coalesce(strftime(m, '%Y-%m'), 'unknown')"
    return {
        str(m): (int(n), s)
        for m, n, s in conn.execute(
            f"SELECT {key}, n, s FROM (SELECT {group} AS m, {count} AS n, "
            f"CAST({largest} AS VARCHAR) AS s FROM {relation} GROUP BY m)"
        ).fetchall()
    }


def write_table(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    dest: Path,
    *,
    partitioned: bool,
    months: list[str] | None = None,
) -> list[Path]:
    """COPY the table to `dest` (a folder that must not exist): one file per month
    (`month=YYYY-MM/part_0.parquet`), or one file. `months`: write only these months (None:
    every row). Every file's rows are in ORDER BY ALL order. A month is sorted and written on
    its own: one sort of a city year (10 M rows) spills DuckDB's 2 GB buffer pool to disk (24 s
    to write it; 12 s month by month, bench/RESULTS.md). Returns the files written."""
    dest.mkdir(parents=True)
    columns = select_list(plan.columns, plan.write_casts)
    if partitioned:
        for month, unique in _months(conn, plan, months):
            folder = dest / f"{plan.partition_column}={month}"
            folder.mkdir()
            conn.execute(
                f"COPY (SELECT {columns} FROM {plan.relation} "
                f"WHERE {_month_filter(plan, month)}{_order_by(unique, plan)}) "
                f"TO {lit(str(folder / 'part_0.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
            )
    else:
        unique = bool(plan.columns) and _key_unique(conn, plan)
        conn.execute(
            f"COPY (SELECT {columns} FROM {plan.relation}{_order_by(unique, plan)}) "
            f"TO {lit(str(dest / 'part_0.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
        )
    return sorted(p for p in dest.rglob("*.parquet") if p.is_file())


def parquet_columns(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> list[tuple[str, str]]:
    return describe(conn, parquet_relation(files))


def file_rows(conn: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str, int]:
    if not files:
        return {}
    listed = ", ".join(lit(str(f)) for f in files)
    out = conn.execute(
        f"SELECT file_name, num_rows FROM parquet_file_metadata([{listed}])"
    ).fetchall()
    return {str(name): int(n) for name, n in out}
