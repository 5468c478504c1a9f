"""What a bulletin is about: the campaign, the unit (city, bureau or station) and the period,
each checked against the published catalog, with one-line errors naming the valid choices."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from pipelines.bulletin.reader import BulletinError, PublishedCatalog
from pipelines.sqltext import literal as lit

RECORD_TYPES = ("inspections", "disputes", "traffic")
PERIOD_KINDS = ("first-month", "last-week", "whole")
# fact view, its date column and its station column, per record type
FACTS = {
    "inspections": ("marts.fct_inspections", "inspected_on", "station_id"),
    "disputes": ("marts.fct_disputes", "reported_on", "station_id"),
    "traffic": ("marts.fct_traffic_violations", "occurred_on", "unit_id"),
}
# level -> (dim_station column the unit is matched on, level of its sub-units, their column)
LEVELS = {
    "city": ("city", "bureau", "bureau_name"),
    "bureau": ("bureau_name", "station", "station_name"),
    "station": ("station_id", None, None),
}


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    starts_on: date
    ends_on: date
    record_types: tuple[str, ...]

    def covers(self, record_type: str) -> bool:
        return record_type in self.record_types


@dataclass(frozen=True)
class Unit:
    level: str  # city | bureau | station
    name: str  # as printed (for a station, its name)
    key: str  # the value matched in dim_station (for a station, its station_id)

    @property
    def column(self) -> str:
        return LEVELS[self.level][0]

    @property
    def sub_level(self) -> str | None:
        return LEVELS[self.level][1]

    @property
    def sub_column(self) -> str | None:
        return LEVELS[self.level][2]

    def where(self, alias: str = "s") -> str:
        return f"{alias}.{self.column} = {lit(self.key)}"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    kind: str  # first-month | last-week | whole | custom | previous | year_ago

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before (环比)."""
        return Period(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), "previous"
        )

    def year_ago(self) -> Period:
        """The same dates a year earlier (同比); 29 February becomes the 28th."""
        return Period(_years_back(self.start, 1), _years_back(self.end, 1), "year_ago")

    def where(self, column: str) -> str:
        return (
            f"{column} BETWEEN DATE {lit(self.start.isoformat())} "
            f"AND DATE {lit(self.end.isoformat())}"
        )


def _years_back(d: date, years: int) -> date:
    year = d.year - years
    return d.replace(year=year, day=min(d.day, calendar.monthrange(year, d.month)[1]))


def _add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def load_campaigns(cat: PublishedCatalog) -> dict[str, Campaign]:
    rows = cat.conn.execute(
        "SELECT campaign_id, campaign_name, starts_on, ends_on, record_types "
        "FROM marts.dim_campaign ORDER BY starts_on, campaign_id"
    ).fetchall()
    return {
        r[0]: Campaign(
            r[0], r[1], r[2], r[3], tuple(t.strip() for t in (r[4] or "").split(";") if t.strip())
        )
        for r in rows
    }


def resolve_campaign(cat: PublishedCatalog, campaign_id: str) -> Campaign:
    campaigns = load_campaigns(cat)
    if campaign_id in campaigns:
        return campaigns[campaign_id]
    choices = ", ".join(f"{c.campaign_id} ({c.name})" for c in campaigns.values())
    raise BulletinError(
        f"unknown campaign {campaign_id!r}; valid campaigns: {choices or 'none published'}"
    )


def campaign_facts_sql(campaign: Campaign) -> str:
    """Station ids and dates of every fact row of the campaign (all record types it covers)."""
    parts = []
    for rt in RECORD_TYPES:
        if campaign.covers(rt):
            view, day, station = FACTS[rt]
            parts.append(
                f"SELECT {station} AS station_id, {day} AS day FROM {view} "
                f"WHERE campaign_id = {lit(campaign.campaign_id)}"
            )
    return " UNION ALL ".join(parts) or "SELECT NULL AS station_id, NULL::DATE AS day LIMIT 0"


@dataclass(frozen=True)
class UnitsWithRecords:
    """The units of dim_station that have records in the campaign, and the records' span."""

    stations: list[tuple[str, str, str, str]]  # (station_id, station_name, bureau, city)
    first_day: date | None
    last_day: date | None

    def cities(self) -> list[str]:
        return sorted({s[3] for s in self.stations})

    def bureaus(self, city: str | None = None) -> list[str]:
        return sorted({s[2] for s in self.stations if city is None or s[3] == city})


def units_with_records(cat: PublishedCatalog, campaign: Campaign) -> UnitsWithRecords:
    facts = campaign_facts_sql(campaign)
    stations = cat.conn.execute(
        f"WITH f AS ({facts}) SELECT s.station_id, s.station_name, s.bureau_name, s.city "
        f"FROM marts.dim_station s WHERE s.station_id IN (SELECT station_id FROM f) "
        f"ORDER BY s.city, s.bureau_name, s.station_name"
    ).fetchall()
    first, last = cat.conn.execute(f"SELECT min(day), max(day) FROM ({facts})").fetchone()
    return UnitsWithRecords([tuple(r) for r in stations], first, last)


def resolve_unit(
    cat: PublishedCatalog, campaign: Campaign, name: str | None, units: UnitsWithRecords
) -> Unit:
    """A city, bureau, station name or station id of dim_station with records in the
    campaign; without a name, the campaign's one city."""
    if not units.stations:
        raise BulletinError(f"campaign {campaign.campaign_id} has no published records")
    if name is None:
        cities = units.cities()
        if len(cities) == 1:
            return Unit("city", cities[0], cities[0])
        raise BulletinError(
            f"campaign {campaign.campaign_id} has records in several cities; "
            f"choose --unit from: {', '.join(cities)}"
        )
    name = name.strip()
    if name in units.cities():
        return Unit("city", name, name)
    if name in units.bureaus():
        return Unit("bureau", name, name)
    by_id = [s for s in units.stations if s[0] == name]
    by_name = [s for s in units.stations if s[1] == name]
    if by_id:
        return Unit("station", by_id[0][1], by_id[0][0])
    if len(by_name) == 1:
        return Unit("station", by_name[0][1], by_name[0][0])
    if len(by_name) > 1:
        ids = ", ".join(f"{s[0]} ({s[2]})" for s in by_name)
        raise BulletinError(f"station name {name!r} is ambiguous; use its station id: {ids}")
    known = cat.conn.execute(
        "SELECT count(*) FROM marts.dim_station WHERE $n IN (city, bureau_name, station_name, "
        "station_id)",
        {"n": name},
    ).fetchone()[0]
    why = "has no records in" if known else "is not a unit of"
    raise BulletinError(
        f"unit {name!r} {why} campaign {campaign.campaign_id}; valid units: "
        f"cities {', '.join(units.cities())}; bureaus {', '.join(units.bureaus())}; "
        f"stations {', '.join(s[1] for s in units.stations)}"
    )


def resolve_period(
    campaign: Campaign,
    kind: str | None,
    start: date | None,
    end: date | None,
    units: UnitsWithRecords,
) -> Period:
    """first-month: the campaign's first calendar month from its start; last-week: the seven
    days up to its last day with records; whole: from its start to its end or its last day
    with records, whichever is earlier; or --from/--to."""
    if (start is None) != (end is None):
        raise BulletinError("give both --from and --to, or neither")
    if start is not None and kind is not None:
        raise BulletinError("give either --period or --from/--to, not both")
    if start is not None and end is not None:
        if start > end:
            raise BulletinError(f"--from {start} is after --to {end}")
        return Period(start, end, "custom")
    kind = kind or "whole"
    if kind not in PERIOD_KINDS:
        raise BulletinError(
            f"unknown period {kind!r}; valid: {', '.join(PERIOD_KINDS)}, or --from DATE --to DATE"
        )
    last = min(units.last_day or campaign.ends_on, campaign.ends_on)
    if kind == "first-month":
        end_ = min(_add_months(campaign.starts_on, 1) - timedelta(days=1), campaign.ends_on)
        return Period(campaign.starts_on, end_, kind)
    if kind == "last-week":
        return Period(max(last - timedelta(days=6), campaign.starts_on), last, kind)
    return Period(campaign.starts_on, max(last, campaign.starts_on), kind)


def check_period_has_records(
    cat: PublishedCatalog, campaign: Campaign, unit: Unit, period: Period
) -> None:
    facts = campaign_facts_sql(campaign)
    found = cat.conn.execute(
        f"WITH f AS ({facts}) SELECT count(*) FROM f "
        f"JOIN marts.dim_station s ON s.station_id = f.station_id WHERE {unit.where('s')}"
        f" AND {period.where('f.day')}"
    ).fetchone()[0]
    if found:
        return
    span = cat.conn.execute(
        f"WITH f AS ({facts}) SELECT min(f.day), max(f.day) FROM f "
        f"JOIN marts.dim_station s ON s.station_id = f.station_id WHERE {unit.where('s')}"
    ).fetchone()
    raise BulletinError(
        f"no records of campaign {campaign.campaign_id} for {unit.name} from {period.start} "
        f"to {period.end}; its records for {unit.name} span {span[0]} to {span[1]} "
        f"(choose --period {', '.join(PERIOD_KINDS)}, or --from/--to within that span)"
    )
