"""Public entry points: generate_corpus, generate_at_scale (benchmark), generate_scenario."""

from __future__ import annotations

import json
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

from pipelines.generate import model as m
from pipelines.generate.corpus import (
    RECORD_TYPES,
    CorpusWriter,
    Options,
    Profile,
    Stream,
    assign_profiles,
)
from pipelines.generate.reference import (
    REFERENCE_COLUMNS,
    Station,
    seed_stations,
    synthetic_stations,
)
from pipelines.generate.writers import write_csv

GENERATOR_VERSION = "2"
DEFAULT_TRAFFIC_PER_STATION_DAY = 6
BULK_TRAFFIC = 50  # from this many tickets per station-day, traffic streams export monthly

# The first three stations of each record type cycle through these (rotated by the seed), so
# any corpus with >= 3 stations shows every format, encoding, header variant, station source,
# cadence and export-date placement.
DEFAULT_PROFILES: dict[str, list[Profile]] = {
    "inspections": [
        Profile(
            fmt="csv",
            encoding="gbk",
            variant=0,
            station_source="column",
            cadence="cumulative",
            export_in="both",
            hand=True,
            bool_style=2,
            flat=True,
            notice_bool=True,
        ),
        Profile(
            fmt="xlsx",
            variant=1,
            station_source="title",
            cadence="monthly",
            export_in="title",
            hand=True,
            bool_style=0,
            multi_sheet=True,
        ),
        Profile(
            fmt="csv",
            encoding="utf-8-sig",
            variant=2,
            station_source="folder",
            cadence="daily",
            export_in="none",
            bool_style=4,
            lineterm="\n",
            title=True,
            totals=False,
        ),
    ],
    "disputes": [
        Profile(
            fmt="csv",
            encoding="gb18030",
            variant=1,
            station_source="column",
            cadence="daily",
            export_in="name",
            hand=True,
            bool_style=0,
            repeat_header=True,
        ),
        Profile(
            fmt="csv",
            encoding="utf-8",
            variant=2,
            station_source="folder",
            cadence="cumulative",
            export_in="name",
            bool_style=1,
            totals=False,
        ),
        Profile(
            fmt="xlsx",
            variant=0,
            station_source="column",
            cadence="cumulative",
            export_in="title",
            bool_style=3,
        ),
    ],
    "traffic": [
        Profile(
            fmt="csv",
            encoding="utf-8",
            variant=2,
            station_source="column",
            cadence="cumulative",
            export_in="name",
            flat=True,
            totals=False,
        ),
        Profile(
            fmt="csv",
            encoding="gbk",
            variant=0,
            station_source="title",
            cadence="daily",
            export_in="both",
            hand=True,
        ),
        Profile(
            fmt="xlsx",
            variant=1,
            station_source="folder",
            cadence="monthly",
            export_in="name",
            bool_style=1,
        ),
    ],
}
SMALL_TRAFFIC_XLSX = 2000  # traffic xlsx only while a file stays below this many rows


def pick_stations(count: int, seed: int, first: int = 0) -> list[Station]:
    """Seed stations first (a Yuncheng and a Ningbo station always), then synthetic ones;
    `first` skips that many (a second corpus of other stations for the same warehouse)."""
    return _station_order(first + count, seed)[first:]


def _silent(chosen: list[Station], count: int) -> list[Station]:
    """Seed stations outside the corpus (and other than the conflict's) that never report."""
    ids = {s.station_id for s in chosen}
    spare = spare_station(chosen)
    others = [s for s in seed_stations() if s.station_id not in ids and s is not spare]
    return others[:count]


def spare_station(chosen: list[Station]) -> Station | None:
    """A seed station that exports nothing in the corpus (the conflict's other station)."""
    ids = {s.station_id for s in chosen}
    return next((s for s in seed_stations() if s.station_id not in ids), None)


def _station_order(count: int, seed: int) -> list[Station]:
    seeds = list(seed_stations())
    first = [s for s in seeds if s.station_id in ("YC_YH_SANLULI", "NB_HS_GULIN")]
    first.sort(key=lambda s: s.station_id != "YC_YH_SANLULI")
    rest = [s for s in seeds if s not in first]
    random.Random(f"{seed}:stations").shuffle(rest)
    ordered = first + rest
    if count <= len(ordered):
        return ordered[:count]
    return ordered + synthetic_stations(count - len(ordered))


def corpus_days(days: int) -> list[date]:
    """`days` dates: a window around the start of SUMMER_100D_2022 (some days before it, outside
    every campaign) plus, from 3 days, 2020-05-20 (Ningbo traffic campaign) and, from 4 days,
    2018-03-05 (Ningbo 2018 campaign)."""
    hist = (
        [date(2018, 3, 5), date(2020, 5, 20)]
        if days >= 4
        else ([date(2020, 5, 20)] if days == 3 else [])
    )
    n_main = max(days - len(hist), 0)
    start = date(2022, 6, 25) - timedelta(days=max(1, n_main // 4))
    return hist + [start + timedelta(days=i) for i in range(n_main)]


def _prepare_out(out: Path) -> None:
    """Replace a previous generated corpus; never delete exports that are not generated."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "truth.json").exists():
        for rt in (*RECORD_TYPES, "reference"):
            if (out / rt).exists() and any(p.is_file() for p in (out / rt).rglob("*")):
                raise FileExistsError(
                    f"{out / rt} holds files and {out} has no truth.json: not a generated "
                    "corpus, refusing to overwrite it"
                )
    for rt in (*RECORD_TYPES, "reference"):
        if (out / rt).exists():
            shutil.rmtree(out / rt)
    if (out / "truth.json").exists():
        (out / "truth.json").unlink()


def _write_reference(out: Path, stations: list[Station]) -> None:
    synthetic = [s for s in stations if s.synthetic]
    if not synthetic:
        return
    rows = [
        [s.station_id, s.name, s.bureau, s.city, s.province, "station", "", "", s.short]
        for s in synthetic
    ]
    write_csv(
        out / "reference" / "stations_generated.csv",
        [REFERENCE_COLUMNS, *rows],
        "utf-8",
        lineterminator="\n",
    )


REPORTING_COLUMNS = ("station_id", "record_type", "expected_from", "expected_to", "deadline_hours")


def _write_reporting(out: Path, stations: list[Station], days: list[date]) -> None:
    """raw/reference/reporting_expected.csv: every station is expected to report every record
    type on each day of the corpus's main window (its historic days are not expected)."""
    rows = [[s.station_id, "", days[0].isoformat(), days[-1].isoformat(), ""] for s in stations]
    write_csv(
        out / "reference" / "reporting_expected.csv",
        [REPORTING_COLUMNS, *rows],
        "utf-8",
        lineterminator="\n",
    )


def main_window(day_list: list[date]) -> list[date]:
    """The corpus's contiguous days (corpus_days puts the historic ones first)."""
    return [d for d in day_list if d.year == 2022] or day_list


def _write_truth(out: Path, truth: dict) -> None:
    text = json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False)
    (out / "truth.json").write_text(text + "\n", encoding="utf-8")


def generate_corpus(
    out: Path,
    stations: int = 5,
    days: int = 7,
    seed: int = 1,
    traffic_per_station_day: int | None = None,
    *,
    bulk: bool | None = None,
    options: Options | None = None,
    first_station: int = 0,
    silent_stations: int = 0,
) -> dict:
    """Write messy exports under out/{inspections,disputes,traffic}/ and out/truth.json.

    stations: how many stations export (seed stations first; beyond the 23 seeded ones,
        synthetic stations are added and registered in out/reference/stations_generated.csv).
    days: how many dates (see corpus_days).
    traffic_per_station_day: mean tickets per station-day (default 6); traffic rows are about
        stations * days * this. From 50 up, traffic exports are monthly files (few, large).
    first_station: skip that many stations of the order (two corpora of other stations for
        one warehouse: their record numbers overlap, their stations do not).
    silent_stations: that many more seed stations are expected to report (reference/
        reporting_expected.csv) but send nothing (truth: coverage).
    Deterministic: the same arguments give byte-identical files. A previous generated corpus
    in `out` (recognised by its truth.json) is replaced; other files there are refused.
    Returns the truth dict (also written to out/truth.json).
    """
    out = Path(out)
    tpsd = (
        DEFAULT_TRAFFIC_PER_STATION_DAY
        if traffic_per_station_day is None
        else int(traffic_per_station_day)
    )
    options = options or Options()
    _prepare_out(out)
    chosen = pick_stations(stations, seed, first_station)
    day_list = corpus_days(days)
    pools = m.Pools.build(seed, size=max(200, min(5000, stations * days)))
    writer = CorpusWriter(out, seed, pools, options, tag=(seed + 97 * first_station) % 1000)
    venue_pool = max(8, len(day_list) // 3)
    bulk = tpsd >= BULK_TRAFFIC if bulk is None else bulk

    def insp(stream: Stream, d: date) -> list:
        rng = random.Random(f"{seed}:i:{stream.station.station_id}:{d}")
        return m.random_inspections(stream.station, stream.sidx, d, rng, pools, venue_pool)

    def disp(stream: Stream, d: date) -> list:
        rng = random.Random(f"{seed}:d:{stream.station.station_id}:{d}")
        return m.random_disputes(stream.station, stream.sidx, d, rng, pools)

    def traf(stream: Stream, d: date) -> list:
        rng = random.Random(f"{seed}:t:{stream.station.station_id}:{d}")
        spread = tpsd // 4
        n = tpsd + rng.randint(-spread, spread) if spread else tpsd
        return m.random_traffic(
            stream.station,
            stream.sidx,
            d,
            rng,
            pools,
            max(n, 0),
            stream.profile.cadence == "cumulative",
        )

    sources = {"inspections": insp, "disputes": disp, "traffic": traf}
    for rt in RECORD_TYPES:
        for sidx, st in enumerate(chosen):
            profile = assign_profiles(rt, sidx, seed, DEFAULT_PROFILES[rt], bulk)
            if rt == "traffic" and profile.fmt == "xlsx" and tpsd * 31 > SMALL_TRAFFIC_XLSX:
                profile = Profile(
                    fmt="csv",
                    encoding="gb18030",
                    variant=1,
                    station_source="folder",
                    cadence="monthly",
                    export_in="name",
                    hand=True,
                )
            writer.write_stream(Stream(rt, st, sidx, profile), day_list, sources[rt])
    if options.conflicts:
        writer.write_conflict(chosen, day_list, insp, spare_station(chosen))
    if options.broken_files:
        writer.write_broken(chosen)
    if options.duplicates:
        writer.write_duplicates()
    _write_reference(out, chosen)
    window = main_window(day_list)
    silent = _silent(chosen, silent_stations)
    _write_reporting(out, chosen + silent, window)
    writer.truth.expect(chosen + silent, window)
    params = {
        "generator_version": GENERATOR_VERSION,
        "stations": stations,
        "days": days,
        "seed": seed,
        "first_station": first_station,
        "traffic_per_station_day": tpsd,
        "bulk": bulk,
        "station_ids": [s.station_id for s in chosen],
        "silent_station_ids": [s.station_id for s in silent],
        "dates": [d.isoformat() for d in day_list],
    }
    truth = writer.truth.as_dict(params)
    _write_truth(out, truth)
    return truth


def generate_at_scale(
    out: Path, stations: int = 150, days: int = 365, traffic_rows: int = 10_000_000, seed: int = 1
) -> dict:
    """Benchmark corpus: about `traffic_rows` traffic rows (monthly files per station), no
    progress output. Inspections and disputes keep their usual per-station-day volume."""
    tpsd = max(1, round(traffic_rows / max(1, stations * days)))
    return generate_corpus(
        out, stations=stations, days=days, seed=seed, traffic_per_station_day=tpsd, bulk=True
    )


def generate_scenario(name: str, out: Path) -> dict:
    """A named calibration scenario (currently: "yuncheng-2022")."""
    from pipelines.generate.scenarios import SCENARIOS

    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    out = Path(out)
    _prepare_out(out)
    truth = SCENARIOS[name](out)
    _write_truth(out, truth)
    return truth
