"""The personal-data screen of a published table: every text value, every text column.

The rules are pipelines/pii_rules.yml (the same that mask free text in dbt). DuckDB runs each
rule's RE2 prefilter over the distinct values of every VARCHAR column (one column per scan);
the few values it keeps go through the Python rules (look-arounds, NFKC, ID checksum). The
result is a one-row frame for great-expectations and, when something is found, the failing
values, shown masked: a report must not leak what it reports.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from pipelines.pii import find_pii, mask_pii, pii_rules, prefilter
from pipelines.sqltext import ident, literal


def text_columns(conn: duckdb.DuckDBPyConnection, rows_sql: str) -> list[str]:
    described = conn.execute(f"DESCRIBE SELECT * FROM ({rows_sql}) AS t").fetchall()
    return [name for name, kind, *_ in described if kind == "VARCHAR"]


def screen(
    conn: duckdb.DuckDBPyConnection, rows_sql: str, where: str = "", sample_rows: int = 20
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """(one-row summary, failing values masked) for the rows of `rows_sql` [WHERE `where`]."""
    rules = pii_rules()
    columns = text_columns(conn, rows_sql)
    candidates: list[tuple[str, str]] = []
    if columns:
        condition = f"{where} AND " if where else ""
        # Distinct values first, then the prefilter: a column of a fact table repeats its
        # values (2,600 file hashes in 10 M rows), so the RE2 scan reads each value once.
        # OFFSET 0 keeps DuckDB from pushing the filter below the DISTINCT (city traffic:
        # 6.2 s -> 3.8 s over its 15 text columns; bench/RESULTS.md).
        branches = [
            f"SELECT {literal(c)} AS column_name, value FROM (SELECT DISTINCT {ident(c)} "
            f"AS value FROM ({rows_sql}) AS t WHERE {condition}{ident(c)} IS NOT NULL "
            "OFFSET 0) AS d WHERE regexp_matches(value, $prefilter)"
            for c in columns
        ]
        candidates = conn.execute(
            " UNION ALL ".join(branches), {"prefilter": prefilter(rules)}
        ).fetchall()
    hits = []
    for column, value in candidates:
        found = find_pii(value, rules)
        if found:
            hits.append(
                {
                    "column": column,
                    "rules": ", ".join(found),
                    "value_masked": mask_pii(value, rules),
                }
            )
    summary = pa.table(
        {
            "values_with_personal_data": [len(hits)],
            "candidate_values": [len(candidates)],
            "text_columns": [len(columns)],
        }
    )
    return summary, hits[:sample_rows]
