"""The SQL of every figure: plain DuckDB SQL over the published `marts.*` views, with its values
written in (no parameters), so that the text shown in the bulletin is exactly what ran and an
analyst can rerun it in any BI tool on the same version.

Metric definitions are those of docs/architecture.md: a venue (家) is
(station_id, coalesce(venue_name, inspection_id)), counted distinct over the whole period (never
summed over days); visits (家次), disputes and violations count rows (record ids are unique
only within a station, so no distinct ids); hazards, notices, households, rooms and fines are
sums; closures are distinct venues with closure_ordered; disputes resolved have status
RESOLVED. Rates are percentages with one decimal, rounded half up, in integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.bulletin.scope import FACTS, Campaign, Period, Unit
from pipelines.sqltext import literal as lit

VENUE = "{'station_id': f.station_id, 'venue': coalesce(f.venue_name, f.inspection_id)}"
STATION_DAY = "{'station_id': c.station_id, 'day': c.day}"


def pct(numerator: str, denominator: str) -> str:
    """numerator / denominator in percent, one decimal, rounded half up (exact)."""
    return (
        f"CASE WHEN {denominator} > 0 THEN (2000 * CAST({numerator} AS HUGEINT) + "
        f"{denominator}) // (2 * {denominator}) / 10 END"
    )


@dataclass
class Query:
    qid: str
    title: str
    sql: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class QueryBook:
    """Runs queries on the catalog connection and keeps each with its id, for provenance."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn
        self.queries: list[Query] = []

    def run(self, title: str, sql: str) -> Query:
        query = Query(f"q{len(self.queries) + 1:02d}", title, sql.strip() + "\n")
        cursor = self.conn.execute(query.sql)
        query.columns = [d[0] for d in cursor.description]
        query.rows = cursor.fetchall()
        self.queries.append(query)
        return query


def _where(campaign: Campaign | None, unit: Unit, period: Period, record_type: str) -> str:
    """campaign None: every record of the unit in the period (the comparison bases)."""
    day = FACTS[record_type][1]
    lines = [f"f.campaign_id = {lit(campaign.campaign_id)}"] if campaign else []
    lines += [unit.where("s"), period.where(f"f.{day}")]
    return "WHERE " + "\n  AND ".join(lines)


def _from(record_type: str) -> str:
    view, _day, station = FACTS[record_type]
    return f"FROM {view} f\nJOIN marts.dim_station s ON s.station_id = f.{station}"


def _scope_comment(campaign: Campaign | None, unit: Unit, period: Period) -> str:
    what = f"campaign {campaign.campaign_id}" if campaign else "all records (any campaign)"
    return f"-- {unit.level} {unit.name}, {period.start} to {period.end}, {what}"


def inspections_by_type(campaign: Campaign | None, unit: Unit, period: Period) -> str:
    return f"""
{_scope_comment(campaign, unit, period)}
-- one row per venue type, plus ALL_NINE_SMALL (the nine small venues), OUTSIDE_NINE_SMALL
-- and ALL; a venue (家) is (station, venue name), counted distinct over the whole period
SELECT
    CASE
        WHEN grouping(v.venue_type_code) = 0 THEN v.venue_type_code
        WHEN grouping(v.is_nine_small) = 0 THEN
            CASE WHEN v.is_nine_small THEN 'ALL_NINE_SMALL' ELSE 'OUTSIDE_NINE_SMALL' END
        ELSE 'ALL'
    END AS group_code,
    count(DISTINCT {VENUE}) AS venues_inspected,
    count(*) AS inspection_visits,
    sum(f.hazards_found) AS hazards_found,
    sum(f.hazards_rectified) AS hazards_rectified,
    {pct("sum(f.hazards_rectified)", "sum(f.hazards_found)")} AS rectification_pct,
    sum(f.notices_issued) AS notices_issued,
    count(DISTINCT {VENUE}) FILTER (WHERE f.closure_ordered) AS closures_ordered,
    sum(f.rental_households) AS rental_households,
    sum(f.rental_rooms) AS rental_rooms
{_from("inspections")}
JOIN marts.dim_venue_type v ON v.venue_type_code = f.venue_type_code
{_where(campaign, unit, period, "inspections")}
GROUP BY GROUPING SETS ((v.venue_type_code), (v.is_nine_small), ())
ORDER BY group_code"""


def disputes_by_source(campaign: Campaign | None, unit: Unit, period: Period) -> str:
    return f"""
{_scope_comment(campaign, unit, period)}
-- one row per dispute source, plus ALL; resolved = status RESOLVED
SELECT
    CASE WHEN grouping(f.source_code) = 0 THEN f.source_code ELSE 'ALL' END AS group_code,
    count(*) AS disputes_found,
    count(*) FILTER (WHERE f.status_code = 'RESOLVED') AS disputes_resolved,
    {pct("count(*) FILTER (WHERE f.status_code = 'RESOLVED')", "count(*)")} AS resolution_pct,
    count(*) FILTER (WHERE f.mediation_result_code IS NOT NULL) AS mediations,
    count(*) FILTER (WHERE f.mediation_result_code = 'SUCCESS') AS mediation_successes,
    count(*) FILTER (WHERE f.escalated_to_criminal) AS escalations
{_from("disputes")}
{_where(campaign, unit, period, "disputes")}
GROUP BY GROUPING SETS ((f.source_code), ())
ORDER BY group_code"""


def traffic_by_violation(campaign: Campaign | None, unit: Unit, period: Period) -> str:
    return f"""
{_scope_comment(campaign, unit, period)}
-- one row per violation type, plus ALL; warnings, education and fines by action
SELECT
    CASE WHEN grouping(f.violation_code) = 0 THEN f.violation_code ELSE 'ALL' END
        AS group_code,
    count(*) AS violations,
    count(*) FILTER (WHERE f.action_code = 'WARNING') AS warnings,
    count(*) FILTER (WHERE f.action_code = 'EDUCATION') AS educations,
    count(*) FILTER (WHERE f.action_code = 'FINE') AS fines,
    coalesce(sum(f.fine_yuan), 0) AS fines_yuan
{_from("traffic")}
{_where(campaign, unit, period, "traffic")}
GROUP BY GROUPING SETS ((f.violation_code), ())
ORDER BY group_code"""


BREAKDOWNS = {
    "inspections": inspections_by_type,
    "disputes": disputes_by_source,
    "traffic": traffic_by_violation,
}


def by_sub_unit(
    campaign: Campaign | None, unit: Unit, period: Period, record_types: tuple[str, ...]
) -> str:
    """One row per sub-unit of `unit` in dim_station (bureaus of a city, stations of a
    bureau), with zeros where a sub-unit has no records."""
    key = "s.station_id" if unit.sub_level == "station" else f"s.{unit.sub_column}"
    name = f"s.{unit.sub_column}"
    ctes = [
        f"""sub_units AS (
    SELECT DISTINCT {key} AS sub_key, {name} AS sub_unit
    FROM marts.dim_station s
    WHERE {unit.where("s")}
)"""
    ]
    select = ["u.sub_unit"]
    joins = []
    if "inspections" in record_types:
        ctes.append(f"""inspections AS (
    SELECT
        {key} AS sub_key,
        count(DISTINCT {VENUE}) AS venues_inspected,
        count(*) AS inspection_visits,
        sum(f.hazards_found) AS hazards_found,
        sum(f.hazards_rectified) AS hazards_rectified,
        sum(f.notices_issued) AS notices_issued
    {_from("inspections").replace(chr(10), chr(10) + "    ")}
    {_where(campaign, unit, period, "inspections").replace(chr(10), chr(10) + "    ")}
    GROUP BY {key}
)""")
        select += [
            "coalesce(i.venues_inspected, 0) AS venues_inspected",
            "coalesce(i.inspection_visits, 0) AS inspection_visits",
            "coalesce(i.hazards_found, 0) AS hazards_found",
            "coalesce(i.hazards_rectified, 0) AS hazards_rectified",
            f"{pct('i.hazards_rectified', 'i.hazards_found')} AS rectification_pct",
            "coalesce(i.notices_issued, 0) AS notices_issued",
        ]
        joins.append("LEFT JOIN inspections i ON i.sub_key = u.sub_key")
    if "disputes" in record_types:
        ctes.append(f"""disputes AS (
    SELECT
        {key} AS sub_key,
        count(*) AS disputes_found,
        count(*) FILTER (WHERE f.status_code = 'RESOLVED') AS disputes_resolved
    {_from("disputes").replace(chr(10), chr(10) + "    ")}
    {_where(campaign, unit, period, "disputes").replace(chr(10), chr(10) + "    ")}
    GROUP BY {key}
)""")
        select += [
            "coalesce(d.disputes_found, 0) AS disputes_found",
            "coalesce(d.disputes_resolved, 0) AS disputes_resolved",
            f"{pct('d.disputes_resolved', 'd.disputes_found')} AS resolution_pct",
        ]
        joins.append("LEFT JOIN disputes d ON d.sub_key = u.sub_key")
    if "traffic" in record_types:
        ctes.append(f"""traffic AS (
    SELECT
        {key} AS sub_key,
        count(*) AS violations,
        coalesce(sum(f.fine_yuan), 0) AS fines_yuan
    {_from("traffic").replace(chr(10), chr(10) + "    ")}
    {_where(campaign, unit, period, "traffic").replace(chr(10), chr(10) + "    ")}
    GROUP BY {key}
)""")
        select += [
            "coalesce(t.violations, 0) AS violations",
            "coalesce(t.fines_yuan, 0) AS fines_yuan",
        ]
        joins.append("LEFT JOIN traffic t ON t.sub_key = u.sub_key")
    sep = ",\n    "
    return f"""
{_scope_comment(campaign, unit, period)}
-- one row per {unit.sub_level} of {unit.name} in marts.dim_station, zeros where none
WITH {", ".join(ctes)}
SELECT
    {sep.join(select)}
FROM sub_units u
{chr(10).join(joins)}
ORDER BY u.sub_unit, u.sub_key"""


def inspection_trend(campaign: Campaign, unit: Unit, period: Period, weekly: bool) -> str:
    bucket = "date_trunc('week', f.inspected_on)" if weekly else "f.inspected_on"
    return f"""
{_scope_comment(campaign, unit, period)}
-- inspections per {"week (starting Monday)" if weekly else "day"}: visits, hazards found
-- and hazards rectified (by their latest state)
SELECT
    CAST({bucket} AS DATE) AS day,
    count(*) AS inspection_visits,
    sum(f.hazards_found) AS hazards_found,
    sum(f.hazards_rectified) AS hazards_rectified
{_from("inspections")}
{_where(campaign, unit, period, "inspections")}
GROUP BY 1
ORDER BY 1"""


def days_with_records(unit: Unit, periods: dict[str, Period], record_types: tuple[str, ...]) -> str:
    """Days with any record of the unit (any campaign) in each period: how complete a
    comparison base is."""
    parts = []
    for rt in record_types:
        view, day, station = FACTS[rt]
        parts.append(
            f"    SELECT f.{day} AS day FROM {view} f\n"
            f"    JOIN marts.dim_station s ON s.station_id = f.{station}\n"
            f"    WHERE {unit.where('s')}"
        )
    counts = ",\n    ".join(
        f"count(*) FILTER (WHERE {p.where('day')}) AS {name}" for name, p in periods.items()
    )
    union = "\n    UNION\n".join(parts)
    return f"""
-- {unit.level} {unit.name}: days with at least one record (any campaign) per period
WITH days AS (
{union}
)
SELECT
    {counts}
FROM days"""


def coverage(unit: Unit, period: Period, record_types: tuple[str, ...], extra_filter: str) -> str:
    types = ", ".join(lit(rt) for rt in record_types)
    return f"""
-- {unit.level} {unit.name}, {period.start} to {period.end}: reporting coverage per record type
-- (one row of marts.mart_reporting_coverage per station, day and record type)
SELECT
    CASE WHEN grouping(c.record_type) = 0 THEN c.record_type ELSE 'ALL' END AS record_type,
    count(DISTINCT c.station_id) AS stations_expected,
    count(DISTINCT c.station_id) FILTER (WHERE c.status <> 'MISSING') AS stations_reporting,
    -- a station-day counts once even when several record types are due on it
    count(DISTINCT {STATION_DAY}) AS station_days,
    count(DISTINCT {STATION_DAY}) FILTER (WHERE c.status = 'MISSING') AS station_days_missing,
    count(DISTINCT {STATION_DAY}) FILTER (WHERE c.status = 'LATE') AS station_days_late,
    count(DISTINCT {STATION_DAY}) FILTER (WHERE c.status = 'PARTIAL') AS station_days_partial,
    coalesce(sum(c.rows_quarantined), 0) AS rows_quarantined,
    coalesce(sum(c.rows_held_back), 0) AS rows_held_back,
    coalesce(sum(c.rows_quarantined), 0) + coalesce(sum(c.rows_held_back), 0)
        AS rows_set_aside
FROM marts.mart_reporting_coverage c
WHERE {unit.where("c")}
  AND {period.where("c.day")}
  AND c.record_type IN ({types}){extra_filter}
GROUP BY GROUPING SETS ((c.record_type), ())
ORDER BY grouping(c.record_type), c.record_type"""


def coverage_worst(
    unit: Unit, period: Period, record_types: tuple[str, ...], extra_filter: str, limit: int = 5
) -> str:
    types = ", ".join(lit(rt) for rt in record_types)
    return f"""
-- {unit.level} {unit.name}, {period.start} to {period.end}: stations with the most missing
-- station-days (a station-day is missing when any record type it owes is MISSING)
SELECT
    c.station_id,
    any_value(c.station_name) AS station_name,
    count(DISTINCT c.day) AS days_missing
FROM marts.mart_reporting_coverage c
WHERE {unit.where("c")}
  AND {period.where("c.day")}
  AND c.record_type IN ({types}){extra_filter}
  AND c.status = 'MISSING'
GROUP BY c.station_id
ORDER BY days_missing DESC, station_name
LIMIT {limit}"""
