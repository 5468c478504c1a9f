"""Reading a bulletin page back: the headline's text and tagged figures, the tables by id, and
numbers as the bulletin writes them (4034, 4.75万, 96.4%, —)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

NUMBER = re.compile(r"\d+(?:\.\d+)?万?")


def number(text: str) -> int | None:
    """'4034' -> 4034, '4.75万' -> 47500, '—' -> None."""
    text = text.strip()
    if text in ("—", ""):
        return None
    if text.endswith("万"):
        value = Decimal(text[:-1]) * 10000
        assert value == value.to_integral_value(), text
        return int(value)
    return int(text)


def percent(text: str) -> Decimal | None:
    text = text.strip()
    return None if text == "—" else Decimal(text.rstrip("%").replace("−", "-").lstrip("+"))


def numbers_in(text: str) -> list[int]:
    return [number(m) for m in NUMBER.findall(text)]


@dataclass
class Table:
    headers: list[str] = field(default_factory=list)
    rows: dict[str, list[str]] = field(default_factory=dict)  # data-code -> cell texts
    order: list[str] = field(default_factory=list)


@dataclass
class Page:
    headline: str = ""
    figures: list[tuple[str, str, str]] = field(default_factory=list)  # (data-figure, href, text)
    tables: dict[str, Table] = field(default_factory=dict)
    sql: dict[str, str] = field(default_factory=dict)  # qid -> SQL text
    ids: dict[str, str] = field(default_factory=dict)  # element id -> text


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[int, list[str]] = {}
        self.table: Table | None = None
        self.row: list[str] | None = None
        self.row_code: str | None = None
        self.cell: list[str] | None = None
        self.in_head = False
        self.details: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag in ("br", "meta", "img", "input", "link"):
            return
        self.stack.append((tag, a))
        self.texts[len(self.stack)] = []
        if tag == "table":
            self.table = Table()
            self.page.tables[a.get("id", f"table{len(self.page.tables)}")] = self.table
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and self.table is not None:
            self.row, self.row_code = [], a.get("data-code")
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "details":
            self.details = a.get("id")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            return
        depth = len(self.stack)
        _tag, a = self.stack.pop()
        text = "".join(self.texts.pop(depth))
        if self.stack:
            self.texts[len(self.stack)].append(text)
        if "id" in a:
            self.page.ids[a["id"]] = text
        if tag == "a" and a.get("class") == "fig" and self._inside("headline-text"):
            self.page.figures.append((a.get("data-figure", ""), a.get("href", ""), text))
        if tag == "p" and a.get("id") == "headline-text":
            self.page.headline = text
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(text.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if self.in_head:
                self.table.headers = self.row
            elif self.row_code is not None:
                self.table.rows[self.row_code] = self.row
                self.table.order.append(self.row_code)
            self.row = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "table":
            self.table = None
        elif tag == "code" and self.details:
            self.page.sql[self.details] = text
        elif tag == "details":
            self.details = None

    def _inside(self, element_id: str) -> bool:
        return any(a.get("id") == element_id for _t, a in self.stack)

    def handle_data(self, data):
        if self.stack:
            self.texts[len(self.stack)].append(data)


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.page


def column(table: Table, header_prefix: str) -> int:
    """Index of the first column whose header starts with `header_prefix`."""
    for i, h in enumerate(table.headers):
        if h.startswith(header_prefix):
            return i
    raise KeyError(f"no column {header_prefix!r} in {table.headers}")
