"""Reference data the generator draws on: the dbt seeds (stations, aliases, campaigns, codes).

Every raw spelling the generator writes comes from these seeds, except the deliberately
unknown station names listed in truth.json.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from pipelines.textnorm import normalise_text

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"

NINE_SMALL = (
    "SMALL_SHOP",
    "SMALL_RESTAURANT",
    "SMALL_HOTEL",
    "SMALL_KTV",
    "SMALL_NETCAFE",
    "SMALL_BEAUTY_BATH",
    "SMALL_SCHOOL",
    "SMALL_CLINIC",
    "SMALL_WORKSHOP",
)
OUTSIDE_NINE = (
    "RENTAL_HOUSING",
    "HOTEL",
    "FOOT_MASSAGE",
    "ENTERTAINMENT",
    "BATHHOUSE",
    "CONVERTED_FACTORY_FLATS",
)
VENUE_TYPES = NINE_SMALL + OUTSIDE_NINE
VIOLATIONS = (
    "PED_RED_LIGHT",
    "PED_NO_CROSSWALK",
    "NMV_RED_LIGHT",
    "NMV_WRONG_WAY",
    "NMV_MOTOR_LANE",
    "EBIKE_NO_HELMET",
    "MV_NO_YIELD_ZEBRA",
    "MV_WINDOW_THROW",
    "MV_PHONE",
    "MV_RACING",
)
SOURCES = ("CANVASS", "CALL", "GRID", "WALK_IN")


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str
    bureau: str
    city: str
    province: str
    aliases: tuple[str, ...]
    synthetic: bool = False

    @property
    def short(self) -> str:
        """The short alias "X所" (always among the aliases)."""
        for alias in self.aliases:
            if alias.endswith("所") and not alias.endswith("派出所") and len(alias) <= 5:
                return alias
        return self.name

    @property
    def long(self) -> str:
        """The longest alias (bureau-prefixed), used in 填报单位 title lines."""
        return max(self.aliases + (self.name,), key=lambda a: (len(a), a))


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    starts_on: date
    ends_on: date
    scope_level: str
    scope_value: str
    record_types: frozenset[str]


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def seed_stations() -> tuple[Station, ...]:
    aliases: dict[str, list[str]] = {}
    for row in _rows("station_aliases.csv"):
        aliases.setdefault(row["station_id"], []).append(row["alias"])
    return tuple(
        Station(
            r["station_id"],
            r["station_name"],
            r["bureau_name"],
            r["city"],
            r["province"],
            tuple(sorted(aliases.get(r["station_id"], []))),
        )
        for r in _rows("stations.csv")
    )


@lru_cache(maxsize=1)
def campaigns() -> tuple[Campaign, ...]:
    return tuple(
        Campaign(
            r["campaign_id"],
            date.fromisoformat(r["starts_on"]),
            date.fromisoformat(r["ends_on"]),
            r["scope_level"],
            r["scope_value"],
            frozenset(r["record_types"].split(";")),
        )
        for r in _rows("campaigns.csv")
    )


@lru_cache(maxsize=1)
def crosswalk() -> dict[str, dict[str, tuple[str, ...]]]:
    """dimension -> code -> raw spellings (seed order)."""
    out: dict[str, dict[str, list[str]]] = {}
    for r in _rows("code_crosswalk.csv"):
        out.setdefault(r["dimension"], {}).setdefault(r["code"], []).append(r["raw_value"])
    return {d: {c: tuple(v) for c, v in codes.items()} for d, codes in out.items()}


def campaign_for(record_type: str, city: str, day: date) -> str | None:
    """Campaign attribution of docs/architecture.md: earliest start, then smallest id."""
    best: Campaign | None = None
    for c in campaigns():
        if record_type not in c.record_types or not (c.starts_on <= day <= c.ends_on):
            continue
        if c.scope_level == "city" and c.scope_value != city:
            continue
        if best is None or (c.starts_on, c.campaign_id) < (best.starts_on, best.campaign_id):
            best = c
    return best.campaign_id if best else None


# Synthetic stations for corpora larger than the seed (written to raw/reference/).
_PLACE_A = "东西南新清安福兴和平长永泰康华丰瑞金玉青"
_PLACE_B = "关湖塘庄营店坊岭湾港埠堡"
_SYN_BUREAUS = (
    ("运城市公安局盐湖分局", "运城市", "山西省", "盐湖分局"),
    ("宁波市公安局海曙分局", "宁波市", "浙江省", "海曙分局"),
    ("永济市公安局", "运城市", "山西省", "永济市公安局"),
    ("慈溪市公安局", "宁波市", "浙江省", "慈溪市公安局"),
)


def synthetic_stations(count: int) -> list[Station]:
    taken = {normalise_text(a) for s in seed_stations() for a in (s.name, *s.aliases)}
    out: list[Station] = []
    for b in _PLACE_B:
        for a in _PLACE_A:
            if len(out) >= count:
                return out
            place = a + b
            name, short = f"{place}派出所", f"{place}所"
            if normalise_text(name) in taken or normalise_text(short) in taken:
                continue
            bureau, city, province, _prefix = _SYN_BUREAUS[len(out) % len(_SYN_BUREAUS)]
            # one alias: raw/reference/stations*.csv carries one alias per station row
            out.append(
                Station(
                    f"SYN_{len(out) + 1:03d}",
                    name,
                    bureau,
                    city,
                    province,
                    (short,),
                    synthetic=True,
                )
            )
    if len(out) < count:
        raise ValueError(f"at most {len(out)} synthetic stations available")
    return out


REFERENCE_COLUMNS = (
    "station_id",
    "station_name",
    "bureau_name",
    "city",
    "province",
    "unit_type",
    "model_station_level",
    "model_station_year",
    "alias",
)
