"""Typing and row rules: fixed SQL per record type over a staged batch of many files.

`lk_batch` holds one row per data row: text per canonical field t_<field> (already trimmed,
NFKC'd for non-text fields, NULL when empty; see stage.py), line, context id. `lk_ctx` holds
per-context constants (file, sheet, export date, station fallback, raw header names). The
first failing rule, in the order malformed_row, oversized_field, missing_key, bad_date,
implausible_date, bad_count, bad_boolean, rectified_exceeds_found, rejects the row. SQL text
is per record type, not per file, so DuckDB's planning cost is paid once per batch.
"""

from __future__ import annotations

from pipelines.landing.schema import FIELDS, landing_columns
from pipelines.sqltext import literal as lit

EARLIEST = "2000-01-01"


def _typed_exprs(record_type: str) -> dict[str, str]:
    typed = {}
    for name, kind in FIELDS[record_type].items():
        t = f"t_{name}"
        typed[name] = {
            "key": t,
            "text": t,
            "station": f"coalesce({t}, x.station_fb)",
            "date": f"CAST(lk_ts({t}) AS DATE)",
            "optional_date": f"CAST(lk_ts({t}) AS DATE)",
            "timestamp": f"lk_ts({t})",
            "count": f"lk_count({t})",
            "count_or_bool": f"coalesce(lk_count({t}), "
            f"CASE lk_bool({t}) WHEN true THEN 1 WHEN false THEN 0 END)",
            "bool": f"lk_bool({t})",
        }[kind]
    return typed


def _typed_sql(record_type: str) -> str:
    typed = _typed_exprs(record_type)
    station = next(f for f, k in FIELDS[record_type].items() if k == "station")
    cols = ", ".join(f"{expr} AS v_{name}" for name, expr in typed.items())
    return (
        f"SELECT b.*, {cols}, CASE WHEN t_{station} IS NOT NULL THEN 'column' "
        "WHEN x.station_fb IS NOT NULL THEN x.station_src END AS v__station_source "
        "FROM lk_batch b JOIN lk_ctx x USING (_cid)"
    )


def _message(name: str, text: str) -> str:
    return (
        f"x.where_ || ' line ' || _line || ': field {name} (' || x.h_{name} || ') value ''' "
        f"|| coalesce(t_{name}, '') || ''' {text}'"
    )


def _checks(record_type: str) -> list[tuple[str, str, str]]:
    """(condition, reason code, message expression) in rule order."""
    kinds = FIELDS[record_type]
    by_code: dict[str, list[tuple[str, str, str]]] = {
        c: [] for c in ("missing_key", "bad_date", "implausible_date", "bad_count", "bad_boolean")
    }
    for name, kind in kinds.items():
        t, v = f"t_{name}", f"v_{name}"
        if kind == "key":
            by_code["missing_key"].append(
                (f"{v} IS NULL", "missing_key", _message(name, "is empty: natural key missing"))
            )
        elif kind in ("date", "optional_date", "timestamp"):
            required = "" if kind == "optional_date" else f"{t} IS NULL OR "
            by_code["bad_date"].append(
                (
                    f"{required}({t} IS NOT NULL AND {v} IS NULL)",
                    "bad_date",
                    _message(name, "is not a date"),
                )
            )
            day = f"CAST({v} AS DATE)"
            by_code["implausible_date"].append(
                (
                    f"{day} < DATE '{EARLIEST}' OR {day} > x.exported_day + 1",
                    "implausible_date",
                    _message(
                        name,
                        f"is before {EARLIEST} or after the export date "
                        "' || x.exported_day || ' plus one day",
                    ),
                )
            )
        elif kind in ("count", "count_or_bool"):
            by_code["bad_count"].append(
                (f"{v} IS NULL", "bad_count", _message(name, "is negative or not a number"))
            )
        elif kind == "bool":
            by_code["bad_boolean"].append(
                (f"{v} IS NULL", "bad_boolean", _message(name, "is not a recognised yes/no value"))
            )
    checks = [
        (
            "_malformed",
            "malformed_row",
            "x.where_ || ' line ' || _line || ': malformed row: ' || _ncells || "
            "' cells where the header has ' || x.width || coalesce(_span, '')",
        ),
        (
            "_oversized IS NOT NULL",
            "oversized_field",
            "x.where_ || ' line ' || _line || ': oversized field: ' || _oversized",
        ),
    ]
    for group in by_code.values():
        checks.extend(group)
    if "hazards_rectified" in kinds and "hazards_found" in kinds:
        checks.append(
            (
                "v_hazards_rectified > v_hazards_found",
                "rectified_exceeds_found",
                "x.where_ || ' line ' || _line || ': hazards_rectified ' || "
                "v_hazards_rectified || ' exceeds hazards_found ' || v_hazards_found",
            )
        )
    return checks


def _rejects_sql(record_type: str) -> str:
    """Rejected rows with their reason, and as much of their station and date as could be
    typed (the coverage of a station-day counts its rejected rows too)."""
    checks = _checks(record_type)
    code = " ".join(f"WHEN {cond} THEN {lit(c)}" for cond, c, _ in checks)
    message = " ".join(f"WHEN {cond} THEN {m}" for cond, _, m in checks)
    kinds = FIELDS[record_type]
    station = next(f for f, k in kinds.items() if k == "station")
    day = next(f for f, k in kinds.items() if k in ("date", "timestamp"))
    return (
        f"SELECT * FROM (SELECT _pos, _cid, _line, CASE {code} END AS code, "
        f"CASE {message} END AS message, v_{station} AS station_text, "
        f"TRY_CAST(v_{day} AS DATE) AS record_date "
        "FROM lk_typed JOIN lk_ctx x USING (_cid)) WHERE code IS NOT NULL"
    )


def _landed_sql(record_type: str) -> str:
    lineage = {
        "_file_sha256": "x.sha256",
        "_source_path": "x.path",
        "_sheet": "x.sheet",
        "_line": "_line",
        "_exported_at": "x.exported_at",
        "_first_seen_at": "x.first_seen_at",
        "_mapping_version": "x.mapping_version",
        "_station_source": "v__station_source",
        "_extra": "CASE WHEN _extra IS NOT NULL THEN to_json(_extra) END",
        "_run_id": "x.run_id",
    }
    cols = landing_columns(record_type)
    values = ", ".join(lineage.get(c, f"v_{c}") for c in cols)
    return (
        f"INSERT INTO landing.{record_type} ({', '.join(cols)}) SELECT {values} "
        "FROM lk_typed JOIN lk_ctx x USING (_cid) ANTI JOIN lk_rejects USING (_pos)"
    )


def statements(record_type: str) -> dict[str, str]:
    return {
        # a view, not a table: copying every text column costs more than parsing twice
        "typed": f"CREATE OR REPLACE TEMP VIEW lk_typed AS {_typed_sql(record_type)}",
        "rejects": f"CREATE OR REPLACE TEMP TABLE lk_rejects AS {_rejects_sql(record_type)}",
        "landed": _landed_sql(record_type),
    }
