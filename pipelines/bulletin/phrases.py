"""The phrase table (phrases.yml) and the number, percent and date forms the bulletin writes."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
PHRASES_PATH = PACKAGE_DIR / "phrases.yml"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


class Phrases:
    """Access to phrases.yml; `say(key, **names)` renders one phrase (a Jinja string)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self._env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
        self._compiled: dict[str, jinja2.Template] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> Phrases:
        return cls(yaml.safe_load((path or PHRASES_PATH).read_text(encoding="utf-8")))

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def say(self, dotted: str, **names: Any) -> str:
        template = self._compiled.get(dotted)
        if template is None:
            # folded YAML (>-) leaves a space where a line broke; Chinese text has none
            text = _CJK_SPACE.sub("", str(self.get(dotted)))
            template = self._compiled[dotted] = self._env.from_string(text)
        return template.render(**names)

    @cached_property
    def punct(self) -> dict[str, str]:
        return self.data["punctuation"]

    # numbers

    def count(self, value: int | None) -> str:
        """A count as the seeds write it: 4034; 4.75万 only when that is exact."""
        if value is None:
            return self.data["numbers"]["no_base"]
        value = int(value)
        n = self.data["numbers"]
        if abs(value) >= n["wan_from"] and value % n["wan_step"] == 0:
            wan = Decimal(value) / Decimal(10000)
            text = format(wan.normalize(), "f")
            return f"{text}{n['wan_suffix']}"
        return str(value)

    def pct(self, value: Decimal | float | None, *, signed: bool = False) -> str:
        """A percentage (value already in percent) with one decimal, rounded half up."""
        if value is None:
            return self.data["numbers"]["no_base"]
        places = Decimal(1).scaleb(-self.data["numbers"]["pct_decimals"])
        rounded = Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)
        if not signed:
            return f"{rounded}%"
        n = self.data["numbers"]
        if rounded > 0:
            return f"{n['change_up']}{rounded}%"
        if rounded < 0:
            return f"{n['change_down']}{-rounded}%"
        return f"{rounded}%"

    def signed_count(self, value: int) -> str:
        n = self.data["numbers"]
        if value > 0:
            return f"{n['change_up']}{self.count(value)}"
        if value < 0:
            return f"{n['change_down']}{self.count(-value)}"
        return "0"

    # dates and names

    def day(self, d: date, *, with_year: bool = True) -> str:
        key = "dates.full" if with_year else "dates.same_year"
        return self.say(key, y=d.year, m=d.month, d=d.day)

    def date_range(self, start: date, end: date) -> str:
        first = self.day(start)
        if start == end:
            return first
        last = self.day(end, with_year=end.year != start.year)
        return self.say("dates.range", start=first, end=last)

    def quoted(self, name: str) -> str:
        """ASCII double quotes in pairs → “ ”, as the reports print campaign names."""
        parts = name.split('"')
        if len(parts) % 2 == 0:  # unpaired: leave as is
            return name
        out = parts[0]
        for i, part in enumerate(parts[1:]):
            out += (self.punct["quote_open"] if i % 2 == 0 else self.punct["quote_close"]) + part
        return out


def percent_change(current: int | None, base: int | None) -> Decimal | None:
    """(current - base) / base in percent; None without a base (no records, or 0)."""
    if current is None or not base:
        return None
    return (Decimal(current) - Decimal(base)) * 100 / Decimal(base)
