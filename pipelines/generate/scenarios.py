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
from datetime import date, timedelta
from pathlib import Path

from pipelines.generate import model as m
from pipelines.generate.corpus import RECORD_TYPES, CorpusWriter, Options, Stream, assign_profiles
from pipelines.generate.reference import NINE_SMALL, OUTSIDE_NINE, seed_stations

YUNCHENG_REPORT = {
    "campaign_id": "SUMMER_100D_2022", "city": "运城市",
    "nine_small": {"venues_inspected": 4034, "hazards_found": 196, "hazards_rectified": 189,
                   "notices_issued": 60},
    "rental": {"rental_households": 1542, "rental_rooms": 7521},
    "hotel_visits": 478, "foot_massage_visits": 215,
    "entertainment_closures": 7, "bathhouse_closures": 2,
    "outside_nine": {"notices_issued": 45, "hazards_rectified": 10},
    "disputes": {"CANVASS": (366, 267), "CALL": (619, 583)},
}
START = date(2022, 6, 25)
DAYS = [START + timedelta(days=i) for i in range(30)]


def _split(rng: random.Random, total: int, parts: int, minimum: int = 0) -> list[int]:
    """`total` split into `parts` integers >= minimum (random, deterministic)."""
    out = [minimum] * parts
    for i in rng.choices(range(parts), k=total - minimum * parts):
        out[i] += 1
    return out


def _yuncheng(out: Path) -> dict:
    seed = 2022
    rng = random.Random("yuncheng-2022")
    stations = [s for s in seed_stations() if s.city == "运城市"]
    pools = m.Pools.build(seed, size=600)
    plan: dict[str, dict[tuple, list]] = {rt: defaultdict(list) for rt in RECORD_TYPES}
    counters: dict[tuple, int] = defaultdict(int)

    def new_id(prefix: str, sidx: int, day: date) -> str:
        key = (prefix, sidx, day)
        counters[key] += 1
        return f"{prefix}{day:%Y%m%d}{sidx:03d}{counters[key] - 1:03d}"

    visits: list[tuple[int, date, str, str]] = []  # (station index, day, venue type, venue)
    # nine small venues: 4034 distinct venues, each visited once, some twice
    per_type = defaultdict(int)
    venues = []
    for v in range(YUNCHENG_REPORT["nine_small"]["venues_inspected"]):
        sidx = v % len(stations)
        vt = rng.choices(NINE_SMALL, weights=(10, 10, 5, 3, 4, 5, 4, 4, 5))[0]
        per_type[(sidx, vt)] += 1
        venues.append((sidx, vt, m.venue_name(vt, per_type[(sidx, vt)] - 1)))
    for sidx, vt, name in venues:
        visits.append((sidx, rng.choice(DAYS[:-3]), vt, name))
    for sidx, vt, name in rng.sample(venues, 266):
        visits.append((sidx, rng.choice(DAYS[-3:]), vt, name))  # revisit, later
    nine_visits = len(visits)

    def outside(vt: str, count: int, pool: int) -> None:
        for _ in range(count):
            sidx = rng.randrange(len(stations))
            visits.append((sidx, rng.choice(DAYS), vt, m.venue_name(vt, rng.randrange(pool))))

    outside("RENTAL_HOUSING", 420, 60)
    outside("HOTEL", YUNCHENG_REPORT["hotel_visits"], 15)
    outside("FOOT_MASSAGE", YUNCHENG_REPORT["foot_massage_visits"], 8)
    outside("ENTERTAINMENT", 64, 6)
    outside("BATHHOUSE", 30, 4)
    outside("CONVERTED_FACTORY_FLATS", 40, 10)

    found = [0] * len(visits)
    rect = [0] * len(visits)
    notices = [0] * len(visits)
    closure = [False] * len(visits)
    households = [0] * len(visits)
    rooms = [0] * len(visits)
    # nine small: 196 found, 189 rectified, 60 notices
    hz = rng.sample(range(nine_visits), 150)
    for i, n in zip(hz, _split(rng, 196, 150, 1), strict=True):
        found[i] = rect[i] = n
    for i in rng.sample(hz, 7):
        rect[i] -= 1
    for i in rng.sample(hz, 60):
        notices[i] = 1
    # outside the nine: 45 notices, 10 rectified (52 found)
    out_idx = list(range(nine_visits, len(visits)))
    hz = rng.sample(out_idx, 48)
    for i, n in zip(hz, _split(rng, 52, 48, 1), strict=True):
        found[i] = n
    for i in rng.sample(hz, 45):
        notices[i] = 1
    for i in rng.sample(hz, 10):
        rect[i] = 1
    # rental housing: 1542 households, 7521 rooms
    rental = [i for i in out_idx if visits[i][2] == "RENTAL_HOUSING"]
    hh = _split(rng, YUNCHENG_REPORT["rental"]["rental_households"], len(rental), 1)
    extra = _split(rng, YUNCHENG_REPORT["rental"]["rental_rooms"]
                   - YUNCHENG_REPORT["rental"]["rental_households"], len(rental))
    for i, h, e in zip(rental, hh, extra, strict=True):
        households[i], rooms[i] = h, h + e
    # closures: 7 entertainment venues, 2 bathhouses (one visit each)
    for vt, n in (("ENTERTAINMENT", YUNCHENG_REPORT["entertainment_closures"]),
                  ("BATHHOUSE", YUNCHENG_REPORT["bathhouse_closures"])):
        first_visit = {}
        for i in out_idx:
            if visits[i][2] == vt:
                first_visit.setdefault((visits[i][0], visits[i][3]), i)
        for key in rng.sample(sorted(first_visit), n):
            closure[first_visit[key]] = True

    order = sorted(range(len(visits)), key=lambda i: (visits[i][1], visits[i][0], i))
    for i in order:
        sidx, day, vt, venue = visits[i]
        rec = m.inspection(new_id("JC", sidx, day), day, vt, venue, rng, pools,
                           found=found[i], rect=rect[i], notices=notices[i],
                           closure=closure[i], households=households[i], rooms=rooms[i])
        if rect[i] > 0 and rng.random() < 0.3:
            rec["rect_early"], rec["change"] = rect[i] - 1, rng.randint(1, 3)
        plan["inspections"][(stations[sidx].station_id, day)].append(rec)

    # disputes: canvassed 366 / 267 resolved, calls 619 / 583 resolved
    disputes = []
    for source, (total, resolved) in YUNCHENG_REPORT["disputes"].items():
        open_states = rng.choices(("IN_MEDIATION", "UNRESOLVED", "REFERRED"), k=total - resolved)
        for status in ["RESOLVED"] * resolved + open_states:
            disputes.append((rng.randrange(len(stations)), rng.choice(DAYS), source, status))
    disputes.sort(key=lambda t: (t[1], t[0]))
    for sidx, day, source, status in disputes:
        st = stations[sidx]
        rec = m.dispute(new_id("JF", sidx, day), day, source, status, rng, pools, st.city)
        plan["disputes"][(st.station_id, day)].append(rec)

    options = Options(bad_rows=False, unknown_stations=False, broken_files=False,
                      duplicates=True, extra_bad_every=0)
    writer = CorpusWriter(out, seed, pools, options)
    from pipelines.generate.api import DEFAULT_PROFILES

    def source(rt: str):
        if rt == "traffic":
            def traf(stream: Stream, d: date) -> list:
                r = random.Random(f"{seed}:t:{stream.station.station_id}:{d}")
                return m.random_traffic(stream.station, stream.sidx, d, r, pools,
                                        r.randint(2, 6), stream.profile.cadence == "cumulative")
            return traf
        return lambda stream, d: plan[rt].get((stream.station.station_id, d), [])

    for rt in RECORD_TYPES:
        for sidx, st in enumerate(stations):
            profile = assign_profiles(rt, sidx, seed, DEFAULT_PROFILES[rt], False)
            writer.write_stream(Stream(rt, st, sidx, profile), DAYS, source(rt))
    writer.write_duplicates()
    truth = writer.truth.as_dict({"scenario": "yuncheng-2022", "seed_report": "001",
                                  "station_ids": [s.station_id for s in stations],
                                  "dates": [DAYS[0].isoformat(), DAYS[-1].isoformat()]})
    check_yuncheng(truth)
    return truth


def check_yuncheng(truth: dict) -> None:
    """Raise if the truth does not reproduce the report (city level, 运城市)."""
    r = YUNCHENG_REPORT
    insp = {row["venue_type_code"]: row for row in truth["mart_campaign_inspections"]
            if row["campaign_id"] == r["campaign_id"] and row["level"] == "city"
            and row["unit_name"] == r["city"]}
    disp = {row["source_code"]: row for row in truth["mart_campaign_disputes"]
            if row["campaign_id"] == r["campaign_id"] and row["level"] == "city"
            and row["unit_name"] == r["city"]}
    got = {
        "nine_small": {k: insp["ALL_NINE_SMALL"][k] for k in r["nine_small"]},
        "rental": {k: insp["RENTAL_HOUSING"][k] for k in r["rental"]},
        "hotel_visits": insp["HOTEL"]["inspection_visits"],
        "foot_massage_visits": insp["FOOT_MASSAGE"]["inspection_visits"],
        "entertainment_closures": insp["ENTERTAINMENT"]["closures_ordered"],
        "bathhouse_closures": insp["BATHHOUSE"]["closures_ordered"],
        "outside_nine": {k: sum(insp[c][k] for c in OUTSIDE_NINE if c in insp)
                         for k in r["outside_nine"]},
        "disputes": {s: (disp[s]["disputes_found"], disp[s]["disputes_resolved"])
                     for s in r["disputes"]},
    }
    want = {k: v for k, v in r.items() if k in got}
    if got != want:
        raise AssertionError(f"yuncheng-2022 truth does not match the report: {got} != {want}")


SCENARIOS = {"yuncheng-2022": _yuncheng}
