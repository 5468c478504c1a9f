"""Render a computed bulletin: the HTML page and the plain-text headline paragraph."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from pipelines.bulletin.build import Bulletin, Row
from pipelines.bulletin.phrases import TEMPLATES_DIR

ROLLUPS = ("ALL_NINE_SMALL", "OUTSIDE_NINE_SMALL", "ALL")
COVERAGE_COLUMNS = [
    "record_type",
    "stations_expected",
    "stations_reporting",
    "station_days",
    "station_days_missing",
    "station_days_late",
    "station_days_partial",
    "rows_set_aside",
]


@cache
def _env(html: bool) -> jinja2.Environment:
    """One environment per mode, so each template is compiled once per process (the page's
    filters read the bulletin's phrase table from the template's `P`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(FILTERS)
    return env


def _join_lines(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


def headline(b: Bulletin, *, html: bool) -> str:
    """The headline paragraph; in HTML each figure links to the SQL that produced it."""
    p = b.phrases

    def fig(row: Row, column: str) -> str:
        text = p.count(row[column])
        if not html:
            return text
        return Markup('<a class="fig" href="#{}" data-figure="{}.{}.{}">{}</a>').format(
            row.qid, row.section, row.code, column, text
        )

    empty: dict[str, Row] = {}
    insp = b.sections["inspections"].groups if "inspections" in b.sections else empty
    disp = b.sections["disputes"].groups if "disputes" in b.sections else empty
    traf = b.sections["traffic"].groups if "traffic" in b.sections else empty
    words = p.get("venue_words")
    named = list(p.get("visits_named"))
    rental_named = bool(
        insp.get("RENTAL_HOUSING")
        and (insp["RENTAL_HOUSING"]["rental_households"] or insp["RENTAL_HOUSING"]["rental_rooms"])
    )
    shown = set(named) | ({"RENTAL_HOUSING"} if rental_named else set())
    others_visited = any(
        g["inspection_visits"]
        for code, g in insp.items()
        if code not in ROLLUPS and code not in shown and code not in b.nine_small
    )
    order = list(p.get("closure_order"))
    order += [c for c in p.get("venue_order") if c not in order]
    closure_codes = [c for c in order if c in insp and insp[c]["closures_ordered"]]
    closure_codes += sorted(
        c
        for c, g in insp.items()
        if c not in ROLLUPS and c not in closure_codes and g["closures_ordered"]
    )
    violation_codes = [c for c, g in traf.items() if c != "ALL" and g["violations"]]
    template = _env(html).get_template("headline.j2")
    text = template.render(
        campaign=b.campaign_name,
        period=p.say(f"period.{b.period.kind}", range=b.range_text, days=b.period.days),
        subject=p.say(f"subject.{b.unit.level}", unit=b.unit.name),
        insp=insp,
        disp=disp,
        traf=traf,
        fig=fig,
        word=lambda code: words.get(code) or (insp[code].label if code in insp else code),
        visits_named=named,
        others_visited=others_visited,
        visits_etc=p.get("visits_etc"),
        closure_codes=closure_codes,
        violation_codes=violation_codes,
        dispute_sources=list(p.get("dispute_sources"))
        + sorted(c for c in disp if c != "ALL" and c not in p.get("dispute_sources")),
    )
    joined = _join_lines(text)
    return Markup(joined) if html else joined


def _num(value: Any) -> str:
    return "—" if value is None else str(int(value))


# Filters of the page; the phrase table is the template's `P`.
@jinja2.pass_context
def _pct(ctx, value: Any) -> str:
    return ctx["P"].pct(None if value is None else Decimal(str(value)))


@jinja2.pass_context
def _chg(ctx, value: Any) -> str:
    return ctx["P"].pct(value, signed=True)


@jinja2.pass_context
def _val(ctx, value: Any, column: str) -> str:
    return _pct(ctx, value) if column.endswith("_pct") else _num(value)


def _cell(value: Any) -> str:
    """data-value of a cell, for sorting."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


FILTERS = {"num": _num, "pct": _pct, "chg": _chg, "val": _val, "cell": _cell}


def render_html(b: Bulletin) -> str:
    p = b.phrases
    previous, year_ago = b.period.previous(), b.period.year_ago()
    return (
        _env(True)
        .get_template("bulletin.html.j2")
        .render(
            b=b,
            P=p,
            headline=headline(b, html=True),
            rollups=ROLLUPS,
            coverage_columns=COVERAGE_COLUMNS,
            previous_range=p.date_range(previous.start, previous.end),
            year_ago_range=p.date_range(year_ago.start, year_ago.end),
        )
    )


def render_text(b: Bulletin) -> str:
    """The headline paragraph alone, for pasting into an official document."""
    return headline(b, html=False) + "\n"


def basename(b: Bulletin) -> str:
    unit = re.sub(r"[\s/\\:]+", "_", b.unit.name)
    return f"{b.campaign.campaign_id}_{unit}_{b.period.start:%Y%m%d}-{b.period.end:%Y%m%d}"


@dataclass(frozen=True)
class BulletinFiles:
    html: Path
    text: Path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_files(b: Bulletin, out_dir: Path, name: str | None = None) -> BulletinFiles:
    """<name>.html and <name>.txt in out_dir (each written whole, then renamed into place)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or basename(b)
    files = BulletinFiles(out_dir / f"{name}.html", out_dir / f"{name}.txt")
    _write_atomic(files.html, render_html(b))
    _write_atomic(files.text, render_text(b))
    return files


__all__ = ["BulletinFiles", "basename", "headline", "render_html", "render_text", "write_files"]
