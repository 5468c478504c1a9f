"""Calibration scenarios: corpora whose published figures reproduce a real report.

yuncheng-2022 (shared/seeds/001): "夏季治安打击整治'百日行动'开展一个月以来，全市公安派出所共检查
'九小场所'4034家，发现隐患196处，督促整改189处，下发隐患通知书60份；摸排矛盾纠纷线索366条，化解
矛盾纠纷267条；通过接处警警情排查掌握矛盾纠纷619条，化解583条；……清查出租屋、公寓1542户7521间，
宾馆酒店478家次，足疗按摩店215家次等，下达隐患整改通知书45份，整改治安隐患10处，依法停业整改娱乐场所
7家、洗浴中心2家。" The records are spread over the ten Yuncheng stations of the seed and the
first 30 days of SUMMER_100D_2022, exported with the usual mess (encodings, xlsx, header
synonyms, cumulative exports with corrections, a duplicate upload) but with no bad rows,
unknown stations or broken files.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pipelines.generate import model as m
from pipelines.generate.corpus import RECORD_TYPES, CorpusWriter, Options, Stream, assign_profiles
from pipelines.generate.reference import NINE_SMALL, OUTSIDE_NINE, Station, seed_stations

YUNCHENG_REPORT = {
    "campaign_id": "SUMMER_100D_2022",
    "city": "运城市",
    "nine_small": {
        "venues_inspected": 4034,
        "hazards_found": 196,
        "hazards_rectified": 189,
        "notices_issued": 60,
    },
    "rental": {"rental_households": 1542, "rental_rooms": 7521},
    "hotel_visits": 478,
    "foot_massage_visits": 215,
    "entertainment_closures": 7,
    "bathhouse_closures": 2,
    "outside_nine": {"notices_issued": 45, "hazards_rectified": 10},
    "disputes": {"CANVASS": (366, 267), "CALL": (619, 583)},
}
SEED = 2022
START = date(2022, 6, 25)
DAYS = [START + timedelta(days=i) for i in range(30)]

# How the records are laid out behind the report's figures (the figures themselves are in
# YUNCHENG_REPORT). Nine small venues: the weight of each type of NINE_SMALL, in its order, and
# how many of the venues are visited a second time in the last three days.
NINE_SMALL_WEIGHTS = (10, 10, 5, 3, 4, 5, 4, 4, 5)
NINE_SMALL_REVISITS = 266
NINE_SMALL_HAZARD_VISITS = 150  # visits that found hazards (one or more each)
# venue types outside the nine: (type, visits, distinct venues the visits are drawn from)
OUTSIDE_VISITS = (
    ("RENTAL_HOUSING", 420, 60),
    ("HOTEL", YUNCHENG_REPORT["hotel_visits"], 15),
    ("FOOT_MASSAGE", YUNCHENG_REPORT["foot_massage_visits"], 8),
    ("ENTERTAINMENT", 64, 6),
    ("BATHHOUSE", 30, 4),
    ("CONVERTED_FACTORY_FLATS", 40, 10),
)
# outside the nine: hazards found (over that many visits); notices and rectified are the report's
OUTSIDE_HAZARDS_FOUND = 52
OUTSIDE_HAZARD_VISITS = 48
# closures ordered, one visit each
CLOSURES = (
    ("ENTERTAINMENT", YUNCHENG_REPORT["entertainment_closures"]),
    ("BATHHOUSE", YUNCHENG_REPORT["bathhouse_closures"]),
)
OPEN_DISPUTE_STATES = ("IN_MEDIATION", "UNRESOLVED", "REFERRED")
EARLY_RECTIFIED_SHARE = 0.3  # inspections whose first export shows one hazard fewer rectified

Visit = tuple[int, date, str, str]  # (station index, day, venue type, venue)


@dataclass
class _Outcomes:
    """What each visit found and ordered, by position in the list of visits."""

    found: list[int]
    rect: list[int]
    notices: list[int]
    closure: list[bool]
    households: list[int]
    rooms: list[int]

    @classmethod
    def none(cls, count: int) -> _Outcomes:
        return cls([0] * count, [0] * count, [0] * count, [False] * count, [0] * count, [0] * count)


class _Ids:
    """Record ids <prefix><day><station index><sequence of the station-day>."""

    def __init__(self) -> None:
        self.counters: dict[tuple, int] = defaultdict(int)

    def __call__(self, prefix: str, sidx: int, day: date) -> str:
        key = (prefix, sidx, day)
        self.counters[key] += 1
        return f"{prefix}{day:%Y%m%d}{sidx:03d}{self.counters[key] - 1:03d}"


def _split(rng: random.Random, total: int, parts: int, minimum: int = 0) -> list[int]:
    """`total` split into `parts` integers >= minimum (random, deterministic)."""
    out = [minimum] * parts
    for i in rng.choices(range(parts), k=total - minimum * parts):
        out[i] += 1
    return out


def _nine_small_visits(rng: random.Random, stations: int) -> list[Visit]:
    """The report's distinct nine small venues, spread over the stations, each visited once
    before the last three days; some visited again in them."""
    per_type: dict[tuple[int, str], int] = defaultdict(int)
    venues = []
    for v in range(YUNCHENG_REPORT["nine_small"]["venues_inspected"]):
        sidx = v % stations
        vt = rng.choices(NINE_SMALL, weights=NINE_SMALL_WEIGHTS)[0]
        per_type[(sidx, vt)] += 1
        venues.append((sidx, vt, m.venue_name(vt, per_type[(sidx, vt)] - 1)))
    visits = [(sidx, rng.choice(DAYS[:-3]), vt, name) for sidx, vt, name in venues]
    for sidx, vt, name in rng.sample(venues, NINE_SMALL_REVISITS):
        visits.append((sidx, rng.choice(DAYS[-3:]), vt, name))  # revisit, later
    return visits


def _outside_visits(rng: random.Random, stations: int) -> list[Visit]:
    visits = []
    for vt, count, pool in OUTSIDE_VISITS:
        for _ in range(count):
            sidx = rng.randrange(stations)
            visits.append((sidx, rng.choice(DAYS), vt, m.venue_name(vt, rng.randrange(pool))))
    return visits


def _nine_small_hazards(rng: random.Random, o: _Outcomes, nine_visits: int) -> None:
    """Hazards found, rectified and notices issued at the nine small venues, as reported."""
    report = YUNCHENG_REPORT["nine_small"]
    hz = rng.sample(range(nine_visits), NINE_SMALL_HAZARD_VISITS)
    for i, n in zip(
        hz, _split(rng, report["hazards_found"], NINE_SMALL_HAZARD_VISITS, 1), strict=True
    ):
        o.found[i] = o.rect[i] = n
    for i in rng.sample(hz, report["hazards_found"] - report["hazards_rectified"]):
        o.rect[i] -= 1  # one hazard of the visit left unrectified
    for i in rng.sample(hz, report["notices_issued"]):
        o.notices[i] = 1


def _outside_hazards(rng: random.Random, o: _Outcomes, out_idx: list[int]) -> None:
    """Notices issued and hazards rectified outside the nine, as reported."""
    report = YUNCHENG_REPORT["outside_nine"]
    hz = rng.sample(out_idx, OUTSIDE_HAZARD_VISITS)
    for i, n in zip(hz, _split(rng, OUTSIDE_HAZARDS_FOUND, OUTSIDE_HAZARD_VISITS, 1), strict=True):
        o.found[i] = n
    for i in rng.sample(hz, report["notices_issued"]):
        o.notices[i] = 1
    for i in rng.sample(hz, report["hazards_rectified"]):
        o.rect[i] = 1


def _rental(rng: random.Random, o: _Outcomes, visits: list[Visit], out_idx: list[int]) -> None:
    """The reported rental households and rooms over the rental housing visits."""
    report = YUNCHENG_REPORT["rental"]
    rental = [i for i in out_idx if visits[i][2] == "RENTAL_HOUSING"]
    hh = _split(rng, report["rental_households"], len(rental), 1)
    extra = _split(rng, report["rental_rooms"] - report["rental_households"], len(rental))
    for i, h, e in zip(rental, hh, extra, strict=True):
        o.households[i], o.rooms[i] = h, h + e


def _closures(rng: random.Random, o: _Outcomes, visits: list[Visit], out_idx: list[int]) -> None:
    """The reported closures, each at the first visit of a distinct venue."""
    for vt, n in CLOSURES:
        first_visit: dict[tuple[int, str], int] = {}
        for i in out_idx:
            if visits[i][2] == vt:
                first_visit.setdefault((visits[i][0], visits[i][3]), i)
        for key in rng.sample(sorted(first_visit), n):
            o.closure[first_visit[key]] = True


def _inspections(
    rng: random.Random, pools: m.Pools, stations: list[Station], ids: _Ids
) -> dict[tuple, list]:
    """Inspection records by (station id, day), adding up to the report's figures."""
    visits = _nine_small_visits(rng, len(stations))
    nine_visits = len(visits)
    visits += _outside_visits(rng, len(stations))
    o = _Outcomes.none(len(visits))
    out_idx = list(range(nine_visits, len(visits)))
    _nine_small_hazards(rng, o, nine_visits)
    _outside_hazards(rng, o, out_idx)
    _rental(rng, o, visits, out_idx)
    _closures(rng, o, visits, out_idx)

    plan: dict[tuple, list] = defaultdict(list)
    for i in sorted(range(len(visits)), key=lambda i: (visits[i][1], visits[i][0], i)):
        sidx, day, vt, venue = visits[i]
        rec = m.inspection(
            ids("JC", sidx, day),
            day,
            vt,
            venue,
            rng,
            pools,
            found=o.found[i],
            rect=o.rect[i],
            notices=o.notices[i],
            closure=o.closure[i],
            households=o.households[i],
            rooms=o.rooms[i],
        )
        if o.rect[i] > 0 and rng.random() < EARLY_RECTIFIED_SHARE:
            rec["rect_early"], rec["change"] = o.rect[i] - 1, rng.randint(1, 3)
        plan[(stations[sidx].station_id, day)].append(rec)
    return plan


def _disputes(
    rng: random.Random, pools: m.Pools, stations: list[Station], ids: _Ids
) -> dict[tuple, list]:
    """Dispute records by (station id, day): found and resolved per source, as reported."""
    disputes = []
    for source, (total, resolved) in YUNCHENG_REPORT["disputes"].items():
        open_states = rng.choices(OPEN_DISPUTE_STATES, k=total - resolved)
        for status in ["RESOLVED"] * resolved + open_states:
            disputes.append((rng.randrange(len(stations)), rng.choice(DAYS), source, status))
    disputes.sort(key=lambda t: (t[1], t[0]))
    plan: dict[tuple, list] = defaultdict(list)
    for sidx, day, source, status in disputes:
        st = stations[sidx]
        rec = m.dispute(ids("JF", sidx, day), day, source, status, rng, pools, st.city)
        plan[(st.station_id, day)].append(rec)
    return plan


def _source(rt: str, plan: dict[str, dict[tuple, list]], pools: m.Pools):
    """The records of a stream's day: random traffic, the planned inspections and disputes."""
    if rt == "traffic":

        def traf(stream: Stream, d: date) -> list:
            r = random.Random(f"{SEED}:t:{stream.station.station_id}:{d}")
            return m.random_traffic(
                stream.station,
                stream.sidx,
                d,
                r,
                pools,
                r.randint(2, 6),
                stream.profile.cadence == "cumulative",
            )

        return traf
    return lambda stream, d: plan[rt].get((stream.station.station_id, d), [])


def _write(
    out: Path, stations: list[Station], pools: m.Pools, plan: dict[str, dict[tuple, list]]
) -> dict:
    """The exports of every station and record type (the usual mess, no bad rows, unknown
    stations or broken files) and a duplicate upload; returns the truth."""
    from pipelines.generate.api import DEFAULT_PROFILES

    options = Options(
        bad_rows=False,
        unknown_stations=False,
        broken_files=False,
        duplicates=True,
        extra_bad_every=0,
    )
    writer = CorpusWriter(out, SEED, pools, options)
    for rt in RECORD_TYPES:
        for sidx, st in enumerate(stations):
            profile = assign_profiles(rt, sidx, SEED, DEFAULT_PROFILES[rt], False)
            writer.write_stream(Stream(rt, st, sidx, profile), DAYS, _source(rt, plan, pools))
    writer.write_duplicates()
    return writer.truth.as_dict(
        {
            "scenario": "yuncheng-2022",
            "seed_report": "001",
            "station_ids": [s.station_id for s in stations],
            "dates": [DAYS[0].isoformat(), DAYS[-1].isoformat()],
        }
    )


def _yuncheng(out: Path) -> dict:
    rng = random.Random("yuncheng-2022")
    stations = [s for s in seed_stations() if s.city == "运城市"]
    pools = m.Pools.build(SEED, size=600)
    ids = _Ids()
    plan: dict[str, dict[tuple, list]] = {rt: defaultdict(list) for rt in RECORD_TYPES}
    plan["inspections"] = _inspections(rng, pools, stations, ids)
    plan["disputes"] = _disputes(rng, pools, stations, ids)
    truth = _write(out, stations, pools, plan)
    check_yuncheng(truth)
    return truth


def check_yuncheng(truth: dict) -> None:
    """Raise if the truth does not reproduce the report (city level, 运城市)."""
    r = YUNCHENG_REPORT
    insp = {
        row["venue_type_code"]: row
        for row in truth["mart_campaign_inspections"]
        if row["campaign_id"] == r["campaign_id"]
        and row["level"] == "city"
        and row["unit_name"] == r["city"]
    }
    disp = {
        row["source_code"]: row
        for row in truth["mart_campaign_disputes"]
        if row["campaign_id"] == r["campaign_id"]
        and row["level"] == "city"
        and row["unit_name"] == r["city"]
    }
    got = {
        "nine_small": {k: insp["ALL_NINE_SMALL"][k] for k in r["nine_small"]},
        "rental": {k: insp["RENTAL_HOUSING"][k] for k in r["rental"]},
        "hotel_visits": insp["HOTEL"]["inspection_visits"],
        "foot_massage_visits": insp["FOOT_MASSAGE"]["inspection_visits"],
        "entertainment_closures": insp["ENTERTAINMENT"]["closures_ordered"],
        "bathhouse_closures": insp["BATHHOUSE"]["closures_ordered"],
        "outside_nine": {
            k: sum(insp[c][k] for c in OUTSIDE_NINE if c in insp) for k in r["outside_nine"]
        },
        "disputes": {
            s: (disp[s]["disputes_found"], disp[s]["disputes_resolved"]) for s in r["disputes"]
        },
    }
    want = {k: v for k, v in r.items() if k in got}
    if got != want:
        raise AssertionError(f"yuncheng-2022 truth does not match the report: {got} != {want}")


SCENARIOS = {"yuncheng-2022": _yuncheng}
