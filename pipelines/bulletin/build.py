"""Compute every figure of one bulletin from the published catalog, ready for the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pipelines.bulletin import queries as Q
from pipelines.bulletin.charts import Charts, find_cjk_font
from pipelines.bulletin.phrases import Phrases, percent_change
from pipelines.bulletin.reader import PublishedCatalog
from pipelines.bulletin.scope import (
    RECORD_TYPES,
    Campaign,
    Period,
    Unit,
    UnitsWithRecords,
    check_period_has_records,
    resolve_campaign,
    resolve_period,
    resolve_unit,
    units_with_records,
)

WEEKLY_FROM_DAYS = 63  # longer periods get a weekly trend
ROW_COUNTS = {
    "inspections": "inspection_visits",
    "disputes": "disputes_found",
    "traffic": "violations",
}


class Row(dict):
    """One result row (a group of a breakdown, a sub-unit); attribute access for templates,
    and where it came from: its section, group code and query id."""

    def __init__(
        self, values: dict[str, Any], *, section: str, code: str, qid: str, label: str = ""
    ):
        super().__init__(values)
        self.section, self.code, self.qid, self.label = section, code, qid, label

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass
class Section:
    name: str  # inspections | disputes | traffic
    title: str
    qid: str
    columns: list[str]
    groups: dict[str, Row]  # group code -> row, in display order


@dataclass
class Bulletin:
    campaign: Campaign
    unit: Unit
    period: Period
    phrases: Phrases
    version: str
    info: dict[str, Any]
    latest: dict[str, Any]
    catalog_path: str
    sections: dict[str, Section] = field(default_factory=dict)
    bases: dict[str, dict[str, dict[str, Row]]] = field(default_factory=dict)
    base_days: dict[str, int] = field(default_factory=dict)  # days with records per period
    base_days_qid: str = ""
    comparison: list[dict[str, Any]] = field(default_factory=list)
    sub_units: dict[str, Any] | None = None
    charts: list[dict[str, str]] = field(default_factory=list)
    charts_note: str = ""
    coverage: dict[str, Any] = field(default_factory=dict)
    queries: list[Q.Query] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    generated_at: str = ""
    nine_small: set[str] = field(default_factory=set)  # venue types marked is_nine_small

    @property
    def record_types(self) -> tuple[str, ...]:
        return tuple(rt for rt in RECORD_TYPES if self.campaign.covers(rt))

    @property
    def campaign_name(self) -> str:
        return self.phrases.quoted(self.campaign.name)

    @property
    def range_text(self) -> str:
        return self.phrases.date_range(self.period.start, self.period.end)

    @property
    def title(self) -> str:
        return self.phrases.say("title", campaign=self.campaign_name)

    @property
    def subtitle(self) -> str:
        return self.phrases.say("subtitle", unit=self.unit.name, range=self.range_text)

    def group(self, section: str, code: str) -> Row | None:
        s = self.sections.get(section)
        return s.groups.get(code) if s else None


def _labels(cat: PublishedCatalog) -> dict[str, dict[str, str]]:
    venue = dict(
        cat.conn.execute("SELECT venue_type_code, label_zh FROM marts.dim_venue_type").fetchall()
    )
    violation = dict(
        cat.conn.execute("SELECT violation_code, label_zh FROM marts.dim_violation_type").fetchall()
    )
    return {"venue": venue, "violation": violation}


def _section(
    book: Q.QueryBook,
    name: str,
    sql: str,
    title: str,
    labels: dict[str, str],
    order: list[str],
    group_labels: dict[str, str],
) -> Section:
    query = book.run(title, sql)
    # GROUPING SETS with () returns a grand-total row even without any record: a group
    # without records is no group (so a comparison has no base rather than a base of 0)
    rows = {r["group_code"]: r for r in query.records() if r[ROW_COUNTS[name]]}
    codes = [c for c in order if c in rows] + sorted(
        c for c in rows if c not in order and c not in group_labels
    )
    codes += [c for c in group_labels if c in rows]
    groups = {}
    for code in codes:
        values = {
            k: (v if v is not None or k.endswith("_pct") else 0) for k, v in rows[code].items()
        }
        label = group_labels.get(code) or labels.get(code) or code
        groups[code] = Row(values, section=name, code=code, qid=query.qid, label=label)
    columns = [c for c in query.columns if c != "group_code"]
    return Section(name, title, query.qid, columns, groups)


def build_bulletin(
    cat: PublishedCatalog,
    campaign_id: str,
    unit_name: str | None = None,
    *,
    period_kind: str | None = None,
    start: date | None = None,
    end: date | None = None,
    phrases: Phrases | None = None,
    units: UnitsWithRecords | None = None,
) -> Bulletin:
    """Every figure of the bulletin for (campaign, unit, period), from one catalog version."""
    phrases = phrases or Phrases.load()
    campaign = resolve_campaign(cat, campaign_id)
    units = units or units_with_records(cat, campaign)
    unit = resolve_unit(cat, campaign, unit_name, units)
    period = resolve_period(campaign, period_kind, start, end, units)
    check_period_has_records(cat, campaign, unit, period)

    b = Bulletin(
        campaign=campaign,
        unit=unit,
        period=period,
        phrases=phrases,
        version=cat.version,
        info=cat.info,
        latest=cat.latest,
        catalog_path=str(cat.path),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    book = Q.QueryBook(cat.conn)
    labels = _labels(cat)
    b.nine_small = {
        r[0]
        for r in cat.conn.execute(
            "SELECT venue_type_code FROM marts.dim_venue_type WHERE is_nine_small"
        ).fetchall()
    }
    group_labels = phrases.get("group_labels")
    orders = {
        "inspections": (labels["venue"], list(phrases.get("venue_order"))),
        "disputes": (phrases.get("dispute_labels"), list(phrases.get("dispute_sources"))),
        "traffic": (labels["violation"], list(phrases.get("violation_order"))),
    }
    previous, year_ago = period.previous(), period.year_ago()
    for rt in b.record_types:
        lab, order = orders[rt]
        b.sections[rt] = _section(
            book,
            rt,
            Q.BREAKDOWNS[rt](campaign, unit, period),
            phrases.get(f"sections.{rt}"),
            lab,
            order,
            group_labels,
        )
    for name, base in (("previous", previous), ("year_ago", year_ago)):
        b.bases[name] = {}
        for rt in b.record_types:
            lab, order = orders[rt]
            title = f"{phrases.get(f'sections.{rt}')} — {phrases.get(f'period_names.{name}')}"
            b.bases[name][rt] = _section(
                book, rt, Q.BREAKDOWNS[rt](None, unit, base), title, lab, order, group_labels
            ).groups
    days = book.run(
        phrases.get("sections.comparison"),
        Q.days_with_records(
            unit, {"current": period, "previous": previous, "year_ago": year_ago}, b.record_types
        ),
    )
    b.base_days, b.base_days_qid = days.records()[0], days.qid
    b.comparison = _comparison(b)
    if unit.sub_level:
        b.sub_units = _sub_units(b, book, previous)
    _charts(b, book)
    _coverage(b, cat, book)
    b.queries = book.queries
    return b


def _comparison(b: Bulletin) -> list[dict[str, Any]]:
    rows = []
    for item in b.phrases.get("comparison"):
        section = b.sections.get(item["section"])
        if section is None:
            continue
        current_row = section.groups.get(item["group"])
        current = current_row[item["metric"]] if current_row else 0
        out = {**item, "current": current, "qid": section.qid}
        for name in ("previous", "year_ago"):
            base_row = b.bases[name][item["section"]].get(item["group"])
            base = base_row[item["metric"]] if base_row else None
            # no records of that kind in the base period: no base
            out[name] = base
            out[f"{name}_change"] = percent_change(current, base)
            out[f"{name}_qid"] = base_row.qid if base_row else None
        rows.append(out)
    return rows


def _sub_units(b: Bulletin, book: Q.QueryBook, previous: Period) -> dict[str, Any]:
    unit, phrases = b.unit, b.phrases
    level_word = phrases.get(f"levels.{unit.sub_level}")
    current = book.run(
        f"{phrases.get('sections.sub_units')}（{level_word}）",
        Q.by_sub_unit(b.campaign, unit, b.period, b.record_types),
    )
    before = book.run(
        f"{phrases.get('sections.sub_units')} — {phrases.get('period_names.previous')}",
        Q.by_sub_unit(None, unit, previous, b.record_types),
    )
    columns = [
        c["column"] for c in phrases.get("sub_unit_columns") if c["section"] in b.record_types
    ]
    rows = [
        Row(r, section="sub_units", code=r["sub_unit"], qid=current.qid, label=r["sub_unit"])
        for r in current.records()
    ]
    prev = {r["sub_unit"]: r for r in before.records()}
    metric = next(
        (m for m in phrases.get("movers.metrics") if m["section"] in b.record_types), None
    )
    for row in rows:
        base = prev.get(row["sub_unit"], {})
        row["has_records"] = any(
            row.get(c) for c in ("inspection_visits", "disputes_found", "violations")
        )
        if metric:
            had = any(base.get(c) for c in ("inspection_visits", "disputes_found", "violations"))
            row["previous"] = base.get(metric["metric"]) if had else None
            row["change"] = percent_change(row[metric["metric"]], row["previous"])
    return {
        "qid": current.qid,
        "previous_qid": before.qid,
        "columns": columns,
        "rows": rows,
        "metric": metric,
        "level_word": level_word,
        "movers_text": _movers_text(b, rows, metric),
    }


def _movers_text(b: Bulletin, rows: list[Row], metric: dict[str, str] | None) -> str:
    p = b.phrases
    count = p.get("movers.count")
    sep = p.punct["list"]
    if metric is None or not any(r["has_records"] for r in rows):
        return p.get("movers.none")
    key, unit = metric["metric"], metric["unit"]
    with_base = [r for r in rows if r["previous"] is not None]
    if not with_base:
        top = sorted((r for r in rows if r[key]), key=lambda r: (-r[key], r["sub_unit"]))
        items = sep.join(
            p.say("movers.no_base_item", name=r["sub_unit"], value=f"{p.count(r[key])}{unit}")
            for r in top[:count]
        )
        return p.say("movers.no_base_text", label=metric["label"], items=items)
    moved = sorted(with_base, key=lambda r: (-abs(r[key] - r["previous"]), r["sub_unit"]))
    items = sep.join(
        p.say(
            "movers.item",
            name=r["sub_unit"],
            change=f"{p.signed_count(r[key] - r['previous'])}{unit}",
            pct=p.pct(r["change"], signed=True),
        )
        for r in moved[:count]
    )
    return p.say(
        "movers.text", label=metric["label"], previous=p.get("period_names.previous"), items=items
    )


def _charts(b: Bulletin, book: Q.QueryBook) -> None:
    p = b.phrases
    font = find_cjk_font(tuple(p.get("charts.fonts")))
    if font is None:
        b.charts_note = p.say("charts.no_font")
        b.warnings.append(
            "no font with Chinese glyphs found: the charts were left out (install fonts-noto-cjk)"
        )
        return
    charts = Charts(font, salt=f"{b.version}-{b.campaign.campaign_id}-{b.unit.key}")
    if "inspections" in b.sections:
        weekly = b.period.days >= WEEKLY_FROM_DAYS
        trend = book.run(
            p.get("charts.trend_title_week" if weekly else "charts.trend_title_day"),
            Q.inspection_trend(b.campaign, b.unit, b.period, weekly),
        )
        rows = trend.records()
        if rows:
            b.charts.append(
                {
                    "qid": trend.qid,
                    "title": trend.title,
                    "svg": charts.trend(
                        trend.title,
                        [r["day"] for r in rows],
                        [r["inspection_visits"] for r in rows],
                        [r["hazards_found"] for r in rows],
                        [r["hazards_rectified"] for r in rows],
                        {
                            "visits": p.get("charts.trend_visits"),
                            "found": p.get("charts.trend_found"),
                            "rectified": p.get("charts.trend_rectified"),
                            "hazards": p.get("charts.trend_hazards_axis"),
                        },
                        weekly,
                    ),
                }
            )
    disputes = b.sections.get("disputes")
    if disputes:
        groups = [g for c, g in disputes.groups.items() if c != "ALL"]
        if groups:
            title = p.get("charts.disputes_title")
            b.charts.append(
                {
                    "qid": disputes.qid,
                    "title": title,
                    "svg": charts.paired_bars(
                        title,
                        [g.label for g in groups],
                        [g["disputes_found"] for g in groups],
                        [g["disputes_resolved"] for g in groups],
                        (p.get("charts.disputes_found"), p.get("charts.disputes_resolved")),
                    ),
                }
            )
    traffic = b.sections.get("traffic")
    if traffic:
        groups = [g for c, g in traffic.groups.items() if c != "ALL"]
        if groups:
            title = p.get("charts.traffic_title")
            b.charts.append(
                {
                    "qid": traffic.qid,
                    "title": title,
                    "svg": charts.bars(
                        title,
                        [g.label for g in groups],
                        [g["violations"] for g in groups],
                        p.get("charts.traffic_axis"),
                    ),
                }
            )
    if b.sub_units and any(r["has_records"] for r in b.sub_units["rows"]):
        rows = b.sub_units["rows"]
        panels = [
            (p.get(f"columns.{c}"), [r[c] for r in rows])
            for c in ("inspection_visits", "hazards_found", "disputes_found", "violations")
            if c in b.sub_units["columns"]
        ][:3]
        title = p.get("charts.sub_units_title")
        b.charts.append(
            {
                "qid": b.sub_units["qid"],
                "title": title,
                "svg": charts.small_multiples(title, [r["sub_unit"] for r in rows], panels),
            }
        )
    if not b.charts:
        b.charts_note = p.get("charts.no_data")


def _coverage(b: Bulletin, cat: PublishedCatalog, book: Q.QueryBook) -> None:
    p = b.phrases
    if not cat.has_view("marts", "mart_reporting_coverage"):
        b.coverage = {"available": False, "text": p.say("coverage.missing")}
        return
    # Rollup rows, if the mart ever carries them beside the station rows, must not be added
    # to the station rows: keep station rows only.
    columns = set(cat.columns("marts", "mart_reporting_coverage"))
    extra = ""
    if "level" in columns:
        extra += "\n  AND c.level = 'station'"
    if "is_rollup" in columns:
        extra += "\n  AND NOT c.is_rollup"
    summary = book.run(
        p.get("sections.coverage"), Q.coverage(b.unit, b.period, b.record_types, extra)
    )
    worst = book.run(
        p.get("coverage.worst").split("：")[0],
        Q.coverage_worst(b.unit, b.period, b.record_types, extra),
    )
    rows = {r["record_type"]: r for r in summary.records()}
    total = rows.get("ALL")
    if total is None:  # no station owed anything in the period
        total = {k: 0 for k in summary.columns}
    text = p.say(
        "coverage.summary",
        expected=total["stations_expected"],
        reporting=total["stations_reporting"],
        missing=total["station_days_missing"],
        late=total["station_days_late"],
        partial=total["station_days_partial"],
        set_aside=total["rows_set_aside"],
        quarantined=total["rows_quarantined"],
        held_back=total["rows_held_back"],
    )
    worst_rows = worst.records()
    if worst_rows:
        items = p.punct["list"].join(
            p.say("coverage.worst_item", name=r["station_name"], days=r["days_missing"])
            for r in worst_rows
        )
        detail = p.say("coverage.worst", items=items)
    else:
        detail = p.get("coverage.none_missing")
    b.coverage = {
        "available": True,
        "text": text,
        "detail": detail,
        "qid": summary.qid,
        "worst_qid": worst.qid,
        "total": total,
        "rows": [rows[rt] for rt in b.record_types if rt in rows],
    }
