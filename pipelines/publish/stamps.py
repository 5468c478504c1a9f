"""Which months of a fact table a night changed, without hashing every month.

A publish needs each month's source partial (rows, sum and xor of the row hashes) to tell
changed months from unchanged ones and to give the table's content hash. Hashing every column
of every row of every month was the largest O(history) cost of a night's publish (10 s of
16 s at 10x the city year, docs/scaling.md). Instead, when the table is a view over rows that
carry a batch stamp every (re)write raises (the fact views' `_resolved_at`, the suites'
`rows_since`), a month whose row count and largest stamp are what the current snapshot
recorded, under the same view SQL, columns and DuckDB version, keeps the partial recorded
there; only the other months are hashed.

Why that is exact: the models change a fact row only by deleting it or by writing it anew
with a stamp above every earlier one (incremental delete+insert). A month that lost rows has
fewer; a month that gained or rewrote rows has a larger stamp. What the view computes from
those rows can change only with its SQL, which is compared. A change made behind the models'
back (an UPDATE by hand, no new stamp) is not seen here, as the row checks do not see it
(they read rows above the validated stamp); WAREHOUSE_VALIDATION_FULL=1 makes both read
everything.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb

from pipelines.publish.snapshot import (
    Partial,
    TablePlan,
    describe,
    file_layout,
    hash_parts,
    month_sql,
    month_stamps,
    months_filter,
    reusable_files,
    view_sha256,
)

log = logging.getLogger(__name__)


def table_parts(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    current: dict[str, Any] | None,
    row_stamp: str | None,
) -> tuple[dict[str, Partial], dict[str, Any] | None]:
    """The source partials of a table, by month (one part '' for an unpartitioned table), and
    what the manifest records to reuse them next time (None: nothing, every month hashed)."""
    key_sql = month_sql(plan) if plan.partition_source else "''"
    source = _source(conn, plan, row_stamp)
    if source is None:
        return hash_parts(conn, plan.relation, plan.columns, key_sql=key_sql), None
    stats = month_stamps(conn, plan, source["row_stamp"])
    rows = sum(n for n, _ in stats.values())
    known = _known(current, plan, source, file_layout(plan, rows))
    parts = {
        month: known[month][2]
        for month, (rows, stamp) in stats.items()
        if stamp is not None and month in known and known[month][:2] == (rows, stamp)
    }
    todo = sorted(set(stats) - set(parts))
    if todo and not parts:  # every month: one pass
        parts.update(hash_parts(conn, plan.relation, plan.columns, key_sql=key_sql))
    else:  # a month a query: DuckDB prunes row groups by one range, not by ranges OR'ed
        for month in todo:
            where = months_filter(plan, [month])
            parts.update(
                hash_parts(conn, plan.relation, plan.columns, key_sql=key_sql, where=where)
            )
    if set(parts) != set(stats):  # the table changed between the two reads
        raise RuntimeError(f"{plan.table}: months {sorted(set(parts) ^ set(stats))} moved")
    log.info(
        "publish %s: %d month(s) hashed, %d unchanged by row count and %s",
        plan.table,
        len(todo),
        len(stats) - len(todo),
        source["row_stamp"],
    )
    source["stamps"] = {month: stamp for month, (_, stamp) in stats.items()}
    return parts, source


def file_fields(source: dict[str, Any] | None, key: str, partial: Partial) -> dict[str, Any]:
    """What a month's manifest entry keeps for the next publish: its largest stamp and its
    source partial (as text: the sum outgrows a 64-bit JSON number)."""
    if source is None or key not in source["stamps"]:
        return {}
    return {"source_stamp": source["stamps"][key], "source_partial": [str(x) for x in partial]}


def table_fields(source: dict[str, Any] | None) -> dict[str, Any]:
    """What a table's manifest entry keeps: the stamp column and the view's SQL hash."""
    if source is None:
        return {}
    return {"source": {"row_stamp": source["row_stamp"], "view_sha256": source["view_sha256"]}}


def _source(
    conn: duckdb.DuckDBPyConnection, plan: TablePlan, row_stamp: str | None
) -> dict[str, Any] | None:
    """The stamp column and view hash, when a month's stamp can stand for its content: a
    partitioned table that is a view with that column."""
    if row_stamp is None or plan.partition_source is None:
        return None
    if row_stamp not in {n for n, _ in describe(conn, plan.relation)}:
        return None
    view = view_sha256(conn, plan)
    if view is None:
        return None
    return {"row_stamp": row_stamp, "view_sha256": view}


def _known(
    current: dict[str, Any] | None,
    plan: TablePlan,
    source: dict[str, Any],
    layout: dict[str, str] | None,
) -> dict[str, tuple[int, str, Partial]]:
    """Per month of the current snapshot: rows, largest stamp and source partial, for the files
    the new snapshot may reuse (snapshot.reusable_files: same DuckDB version, whose hash() is
    stable only within one, same layout and columns, one file per month) written from the
    same view SQL and stamp column."""
    info = (current or {}).get("tables", {}).get(plan.table) or {}
    if info.get("source") != {
        "row_stamp": source["row_stamp"],
        "view_sha256": source["view_sha256"],
    }:
        return {}
    known: dict[str, tuple[int, str, Partial]] = {}
    for key, entry in reusable_files(current, plan, layout).items():
        stamp, partial = entry.get("source_stamp"), entry.get("source_partial")
        if stamp is not None and partial is not None and len(partial) == 3:
            rows, total, xor = (int(x) for x in partial)
            if rows == entry.get("rows"):
                known[key] = (rows, stamp, (rows, total, xor))
    return known
