"""The benchmark's data: the project's generator (or bench.fabricate for development), once.

History: `generate_corpus(DATA/history, stations, days, seed, traffic_per_station_day)`.
Incremental night: the same generator, same stations, seed and PII pools, for one date: the
day after the history's last date (truth.json params.dates). The generator has no start-date
parameter, so `pipelines.generate.api.corpus_days` is swapped for the call (in the bench
process only); broken files and byte-identical duplicates are not re-emitted. A night file whose
path already exists in the history (exports named by period, "第1期") is renamed "夜间_…"
so that it arrives as a new file, as a station's next export would.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import inspect
import json
import os
import shutil
import time
from pathlib import Path

RECORD_FOLDERS = ("inspections", "disputes", "traffic")
RAW_FOLDERS = (*RECORD_FOLDERS, "reference")
TRAFFIC_PARAM = "traffic_per_station_day"


def generate(
    out: Path,
    stations: int,
    days: int,
    seed: int,
    traffic: int | None,
    dates: list[dt.date] | None = None,
) -> dict:
    """Call the project's generator; with `dates`, for exactly those dates."""
    from pipelines.generate import api

    params = inspect.signature(api.generate_corpus).parameters
    kwargs: dict[str, object] = {"stations": stations, "days": days, "seed": seed}
    if traffic and TRAFFIC_PARAM in params:
        kwargs[TRAFFIC_PARAM] = traffic
    original = api.corpus_days
    if dates is not None:
        api.corpus_days = lambda _n: list(dates)
        if "options" in params:
            from pipelines.generate.corpus import Options

            kwargs["options"] = Options(broken_files=False, duplicates=False)
    try:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        api.generate_corpus(out, **kwargs)
    finally:
        api.corpus_days = original
    return {
        "kwargs": {k: str(v) for k, v in kwargs.items()},
        "dates": [d.isoformat() for d in dates] if dates else None,
    }


def generator_digest(fabricated: bool) -> str:
    """Hash of the generator's source: a changed generator means a new corpus."""
    import hashlib

    if fabricated:
        files = [Path(__file__).with_name("fabricate.py")]
    else:
        import pipelines.generate as gen

        files = sorted(Path(gen.__file__).parent.glob("*.py"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def link_tree(src: Path, dst: Path, folders: tuple[str, ...] = RAW_FOLDERS) -> int:
    """Hard-link (copy across devices) src/<folder>/** into dst, replacing what is there."""
    n = 0
    for folder in folders:
        top = src / folder
        if not top.is_dir():
            continue
        for path in top.rglob("*"):
            if not path.is_file():
                continue
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.unlink()
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
            n += 1
    return n


def link_night(night: Path, history: Path, dst: Path, prefix: str = "夜间_") -> int:
    """Link the night's export files into dst; a name taken in the history gets a prefix."""
    n = 0
    for folder in RECORD_FOLDERS:
        top = night / folder
        for path in sorted(top.rglob("*")) if top.is_dir() else []:
            if not path.is_file():
                continue
            rel = path.relative_to(night)
            if (history / rel).exists():
                rel = rel.with_name(prefix + rel.name)
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            n += 1
    return n


def new_or_changed(history: Path, bigger: Path, dst: Path) -> int:
    """Link into dst the files of `bigger` that are absent from or differ in `history`."""
    n = 0
    for folder in RAW_FOLDERS:
        top = bigger / folder
        if not top.is_dir():
            continue
        for path in top.rglob("*"):
            if not path.is_file():
                continue
            rel = path.relative_to(bigger)
            old = history / rel
            if old.is_file() and filecmp.cmp(old, path, shallow=False):
                continue
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            n += 1
    return n


def ensure(
    data: Path,
    *,
    stations: int,
    days: int,
    seed: int,
    traffic: int | None,
    fabricated: bool,
    regenerate: bool,
) -> dict:
    """Generate history and next day once; reuse them while the parameters are unchanged."""
    stamp = data / "params.json"
    wanted = {
        "stations": stations,
        "days": days,
        "seed": seed,
        "traffic": traffic,
        "fabricated": fabricated,
        "version": 3,
        "generator": generator_digest(fabricated),
    }
    if not regenerate and stamp.exists():
        info = json.loads(stamp.read_text())
        if info.get("wanted") == wanted:
            info["reused"] = True
            return info
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    history, nextday = data / "history", data / "nextday"
    info: dict[str, object] = {"wanted": wanted, "reused": False}
    t = time.perf_counter()
    if fabricated:
        from bench.fabricate import fabricate

        per_day = max(1, (traffic or 20))
        fabricate(history, stations=stations, days=days, rows_per_day=per_day, seed=seed)
        info["history"] = {"fabricated": True}
    else:
        info["history"] = generate(history, stations, days, seed, traffic)
    info["generate_s"] = time.perf_counter() - t

    t = time.perf_counter()
    nextday.mkdir()
    if fabricated:
        from bench.fabricate import fabricate

        fabricate(
            data / "plusone",
            stations=stations,
            days=days + 1,
            rows_per_day=max(1, traffic or 20),
            seed=seed,
        )
        info["nextday"] = {
            "method": "diff of days+1",
            "files": new_or_changed(history, data / "plusone", nextday),
        }
    else:
        truth = json.loads((history / "truth.json").read_text())
        next_day = max(dt.date.fromisoformat(d) for d in truth["params"]["dates"]) + dt.timedelta(
            days=1
        )
        scratch = data / "oneday"
        info["nextday"] = generate(scratch, stations, days, seed, traffic, dates=[next_day])
        info["nextday"]["method"] = f"one more day ({next_day}) after the history"
        info["nextday"]["files"] = link_night(scratch, history, nextday)
    info["nextday_generate_s"] = time.perf_counter() - t
    info["history_files"] = (
        sum(1 for f in RAW_FOLDERS for p in (history / f).rglob("*") if p.is_file())
        if history.is_dir()
        else 0
    )
    info["history_mib"] = round(
        sum(p.stat().st_size for p in history.rglob("*") if p.is_file()) / 2**20, 1
    )
    stamp.write_text(json.dumps(info, ensure_ascii=False, indent=1, default=str))
    return info


def extra_night(data: Path, k: int) -> Path:
    """Night k (>= 2) after the history, generated once into DATA/night<k>/ (real generator)."""
    dst = data / f"night{k}"
    if (dst / ".done").exists():
        return dst
    info = json.loads((data / "params.json").read_text())
    wanted = info["wanted"]
    history = data / "history"
    truth = json.loads((history / "truth.json").read_text())
    day = max(dt.date.fromisoformat(d) for d in truth["params"]["dates"]) + dt.timedelta(days=k)
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    scratch = data / "oneday"
    generate(
        scratch, wanted["stations"], wanted["days"], wanted["seed"], wanted["traffic"], dates=[day]
    )
    link_night(scratch, history, dst, prefix=f"夜间{k}_")
    (dst / ".done").write_text(day.isoformat())
    return dst
