"""Value parsing: SQL macros applied column-wise in DuckDB (dates, counts, booleans), plus a
Python twin for the few values read outside the data rows (title lines, file names).
Trimming and full-width -> half-width happen before, in Arrow (stage.py)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import duckdb

from pipelines.landing.mapping import HeaderMapping
from pipelines.sqltext import literal

DATE_RE = (
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?秒?)?)?$"
)
COMPACT_RE = r"^(\d{4})(\d{2})(\d{2})(?:[\sT]*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
# Excel serial day numbers (1899-12-30 epoch); 5 digits from 20000 (1954) is the plausible range.
SERIAL_RE = r"^\d{5}(\.\d+)?$"
SERIAL_MIN = 20000
COUNT_RE = r"^(\d+)(?:\.0*)?\p{Han}{0,2}$"  # "3", "3.0", "3处", "20元"


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(literal(v) for v in values)


def create_macros(conn: duckdb.DuckDBPyConnection, mapping: HeaderMapping) -> None:
    """Temporary (connection-local) macros used by the typing SQL of rules.py."""
    names = "['y', 'm', 'd', 'hh', 'mi', 'ss']"
    statements = [
        "CREATE OR REPLACE TEMP MACRO lk_parts(r) AS CASE WHEN r.y <> '' THEN try_cast("
        "r.y || '-' || r.m || '-' || r.d || ' ' || coalesce(nullif(r.hh, ''), '0') || ':' || "
        "coalesce(nullif(r.mi, ''), '0') || ':' || coalesce(nullif(r.ss, ''), '0') AS TIMESTAMP)"
        " END",
        # t is already trimmed and NFKC'd (stage.py)
        # the common ISO forms parse with a plain cast; the regexes only see the rest
        "CREATE OR REPLACE TEMP MACRO lk_ts(t) AS coalesce(try_cast(t AS TIMESTAMP), CASE "
        f"WHEN regexp_full_match(t, {literal(SERIAL_RE)}) THEN CASE "
        f"WHEN try_cast(t AS DOUBLE) >= {SERIAL_MIN} THEN TIMESTAMP '1899-12-30' + "
        "to_seconds(round(try_cast(t AS DOUBLE) * 86400)::BIGINT) END "
        f"ELSE coalesce(lk_parts(regexp_extract(t, {literal(DATE_RE)}, {names})), "
        f"lk_parts(regexp_extract(t, {literal(COMPACT_RE)}, {names}))) END)",
        "CREATE OR REPLACE TEMP MACRO lk_count(t) AS CASE WHEN t IS NULL THEN 0 ELSE "
        f"try_cast(regexp_extract(replace(replace(t, ' ', ''), ',', ''), {literal(COUNT_RE)}, 1)"
        " AS BIGINT) END",
        "CREATE OR REPLACE TEMP MACRO lk_bool(t) AS CASE WHEN t IS NULL THEN false "
        f"WHEN lower(replace(t, ' ', '')) IN ({_list(mapping.true_values)}) THEN true "
        f"WHEN lower(replace(t, ' ', '')) IN ({_list(mapping.false_values)}) THEN false END",
    ]
    for sql in statements:
        conn.execute(sql)


_PY_DATE = re.compile(DATE_RE.replace(r"\p{Han}", ""))
_PY_COMPACT = re.compile(COMPACT_RE)


def parse_datetime(text: str | None) -> datetime | None:
    """The same text forms as lk_ts (no serials): for 填报日期 title values."""
    if not text:
        return None
    t = unicodedata.normalize("NFKC", text).strip()
    m = _PY_DATE.match(t) or _PY_COMPACT.match(t)
    if not m:
        return None
    parts = [int(g) if g else 0 for g in m.groups()]
    try:
        return datetime(*parts[:3], parts[3], parts[4], parts[5])
    except ValueError:
        return None


_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)")


def date_in_name(name: str) -> datetime | None:
    """YYYYMMDD, YYYY-MM-DD or YYYY_MM_DD anywhere in a file name."""
    for m in _NAME_DATE.finditer(name):
        try:
            day = date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            continue
        if 2000 <= day.year <= 2100:
            return datetime(day.year, day.month, day.day)
    return None
