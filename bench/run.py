"""`make bench SCALE=small|city`: a city-year of exports, end to end, against the limit.

Generates the dataset once (bench/out/data/<scale>/), then per repetition runs each contender
in a fresh process (wall time, peak RSS of its process tree):
  (a) limit   bare DuckDB, explicit schema (+ Python prescan, GBK transcoding, xlsx -> CSV)
  (b) pandas  the hand-rolled pandas script doing the same standardisation
  (c) nightly the project's nightly job (landing -> dbt -> checks -> publish), empty home
  (d) night+1 one more day of files onto the full history, the job again on c's home
and prints the table, c/a, c/b, d/c, the stage breakdown of (c) and PASS/MISS per target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import corpus  # noqa: E402
from bench.measure import run_measured  # noqa: E402

# traffic = rows per station-day (city: 150 x 365 x 183 = 10.0 M; small: 30 x 181 x 184 = 1.0 M)
SCALES = {
    "tiny": {"stations": 3, "days": 4, "traffic": 40, "repeat": 1},
    "small": {"stations": 30, "days": 181, "traffic": 184, "repeat": 3},
    "city": {"stations": 150, "days": 365, "traffic": 183, "repeat": 1},
}
NAMES = {
    "a": "a limit (DuckDB)",
    "b": "b pandas script",
    "c": "c nightly job",
    "d": "d incremental night",
}
MODULES = {"a": "bench.limit", "b": "bench.pandas_script"}
TARGETS = {
    "c_over_a": 2.0,
    "c_over_b": 1 / 3,
    "d_over_c": 0.05,
    "rss_mib": 4096.0,
    "startup_s": 20.0,
}


RSS_CAP_MIB = 12 * 1024  # shared 24 GiB machine: a contender above this is killed, not waited on
LIMITS = {"rss_cap_mib": float(RSS_CAP_MIB)}


def _contender(letter: str, cmd: list[str], log: Path, result: Path) -> dict:
    # As with an activated venv: the venv's bin first on PATH (dagster-dbt looks `dbt` up there).
    env = {
        **os.environ,
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    name = NAMES.get(letter, f"{letter} incremental night {letter[1:]}")
    print(f"  {name} ...", end="", flush=True)
    m = run_measured(cmd, env=env, cwd=REPO, log=log, rss_cap_mib=LIMITS["rss_cap_mib"])
    detail = json.loads(result.read_text()) if result.exists() else {}
    status = "ok" if m.returncode == 0 else f"exit {m.returncode} (log: {log})"
    if m.capped:
        status = f"KILLED: process tree above the {LIMITS['rss_cap_mib']:.0f} MiB RSS cap"
    print(f" {m.wall_s:.1f} s (cpu {m.cpu_s:.1f} s), {m.peak_mib:.0f} MiB, {status}", flush=True)
    if m.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        print("\n".join(f"      | {line}" for line in tail))
    return {
        "wall_s": m.wall_s,
        "peak_mib": m.peak_mib,
        "maxrss_mib": m.maxrss_mib,
        "tree_peak_mib": m.tree_peak_mib,
        "cpu_s": m.cpu_s,
        "returncode": m.returncode,
        "capped": m.capped,
        "rows": detail.get("rows"),
        "detail": detail,
    }


def run_repetition(
    rep: int,
    work: Path,
    history: Path,
    nextday: Path,
    only: str,
    logs: Path,
    more_nights: list[Path] = (),
) -> dict[str, dict]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    py = sys.executable
    out: dict[str, dict] = {}
    for letter in "ab":
        if letter in only:
            result = work / f"{letter}.json"
            out[letter] = _contender(
                letter,
                [
                    py,
                    "-m",
                    MODULES[letter],
                    "--raw",
                    str(history),
                    "--out",
                    str(work / letter),
                    "--result",
                    str(result),
                ],
                logs / f"rep{rep}-{letter}.log",
                result,
            )
            shutil.rmtree(work / letter, ignore_errors=True)
    if "c" in only or "d" in only:
        raw, home = work / "raw", work / "home"
        corpus.link_tree(history, raw)
        for letter in "cd":
            if letter == "d":
                if "d" not in only:
                    break
                corpus.link_tree(nextday, raw, corpus.RECORD_FOLDERS)
            result = work / f"{letter}.json"
            out[letter] = _contender(
                letter,
                [
                    py,
                    "-m",
                    "bench.nightly",
                    "--raw",
                    str(raw),
                    "--home",
                    str(home),
                    "--result",
                    str(result),
                ],
                logs / f"rep{rep}-{letter}.log",
                result,
            )
        for k, night in enumerate(more_nights if "d" in only else [], 2):
            corpus.link_tree(night, raw, corpus.RECORD_FOLDERS)
            letter = f"d{k}"
            result = work / f"{letter}.json"
            out[letter] = _contender(
                letter,
                [
                    py,
                    "-m",
                    "bench.nightly",
                    "--raw",
                    str(raw),
                    "--home",
                    str(home),
                    "--result",
                    str(result),
                ],
                logs / f"rep{rep}-{letter}.log",
                result,
            )
    return out


def _median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarise(reps: list[dict[str, dict]]) -> dict[str, dict]:
    summary: dict[str, dict] = {}
    for letter in "abcd":
        runs = [r[letter] for r in reps if letter in r]
        if not runs:
            continue
        ok = [r for r in runs if r["returncode"] == 0] or runs
        summary[letter] = {
            "wall_s": _median([r["wall_s"] for r in ok]),
            "peak_mib": _median([r["peak_mib"] for r in ok]),
            "cpu_s": _median([r.get("cpu_s") for r in ok]),
            "rows": next((r["rows"] for r in ok if r["rows"] is not None), None),
            "ok": all(r["returncode"] == 0 for r in runs),
            "capped": any(r.get("capped") for r in runs),
            "runs": len(runs),
            "walls": [round(r["wall_s"], 2) for r in runs],
        }
    return summary


def breakdown(reps: list[dict[str, dict]], letter: str = "c") -> list[tuple[str, float | None]]:
    details = [r[letter]["detail"] for r in reps if letter in r and r[letter]["detail"]]
    walls = [r[letter]["wall_s"] for r in reps if letter in r and r[letter]["detail"]]
    if not details:
        return []

    def med(f) -> float | None:
        return _median([f(d) for d in details])

    phase = lambda name: med(lambda d: d.get("phases", {}).get(name))  # noqa: E731
    stage = lambda name: med(lambda d: d.get("stages", {}).get(name))  # noqa: E731

    def dbt_cli(d: dict) -> float | None:
        dbt, step = d.get("dbt") or {}, d.get("stages", {}).get("dbt")
        return step - dbt["elapsed"] if step is not None and dbt.get("elapsed") else None

    rows: list[tuple[str, float | None]] = [
        ("start-up: imports", phase("imports")),
        ("start-up: Dagster definitions load", phase("definitions")),
        ("start-up: dbt parse (manifest)", phase("dbt_parse")),
        ("start-up: Dagster instance", phase("instance")),
        ("fixed start-up (job process)", med(lambda d: d.get("startup"))),
        ("landing", stage("landing")),
        ("dbt build (whole step)", stage("dbt")),
        ("  of which outside dbt's own elapsed", med(dbt_cli)),
        ("  of which dbt nodes (sum)", med(lambda d: (d.get("dbt") or {}).get("node_seconds"))),
        ("quarantine sync", stage("quarantine sync")),
        ("checks (great-expectations)", stage("checks")),
        ("publish", stage("publish")),
        ("Dagster run overhead (job - steps)", med(lambda d: d.get("dagster_overhead"))),
        ("  of which before RUN_START", med(lambda d: d.get("dagster_before_run"))),
        ("  of which after RUN_SUCCESS", med(lambda d: d.get("dagster_after_run"))),
        ("run summary", phase("summary")),
        (
            "interpreter start + exit",
            _median(
                [
                    w
                    - d.get("startup", 0)
                    - d.get("phases", {}).get("job", 0)
                    - d.get("phases", {}).get("summary", 0)
                    for w, d in zip(walls, details, strict=True)
                ]
            ),
        ),
        ("total wall", _median(walls)),
    ]
    others = sorted({k for d in details for k in d.get("stages", {}) if k.startswith("other")})
    rows[-6:-6] = [(k, stage(k)) for k in others]
    return rows


def phase_medians(reps: list[dict[str, dict]], letter: str) -> dict[str, float]:
    details = [r[letter]["detail"] for r in reps if letter in r and r[letter]["detail"]]
    names = [k for d in details[:1] for k in d.get("phases", {})]
    return {
        k: statistics.median(d["phases"][k] for d in details if k in d.get("phases", {}))
        for k in names
    }


def startup_total(rows: list[tuple[str, float | None]]) -> tuple[float | None, str]:
    """Fixed start-up: the job process's (imports, definitions, dbt parse, instance), Dagster's
    planning before RUN_START, and the dbt step's time outside dbt's own elapsed (dbt CLI
    start-up, partial parse, event streaming)."""
    values = dict(rows)
    parts = {
        "job process": values.get("fixed start-up (job process)"),
        "Dagster before RUN_START": values.get("  of which before RUN_START"),
        "dbt CLI": values.get("  of which outside dbt's own elapsed"),
    }
    known = {k: v for k, v in parts.items() if v is not None}
    if "job process" not in known:
        return None, ""
    return sum(known.values()), " + ".join(f"{k} {v:.1f}" for k, v in known.items())


def ratios(summary: dict[str, dict]) -> dict[str, float | None]:
    def r(x: str, y: str) -> float | None:
        if (
            x in summary
            and y in summary
            and summary[x]["ok"]
            and summary[y]["ok"]
            and summary[y]["wall_s"]
        ):
            return summary[x]["wall_s"] / summary[y]["wall_s"]
        return None

    return {"c/a": r("c", "a"), "c/b": r("c", "b"), "d/c": r("d", "c")}


def targets(
    summary: dict, rat: dict, rows: list, later_rows: list | None = None
) -> list[tuple[str, str, str]]:
    def verdict(value: float | None, limit: float, fmt: str) -> tuple[str, str]:
        if value is None:
            return "n/a", "not measured"
        return ("PASS" if value <= limit else "MISS"), fmt.format(value)

    out = []
    v, text = verdict(rat["c/a"], TARGETS["c_over_a"], "c/a = {:.2f}")
    out.append(("c <= 2 x a", v, text))
    v, text = verdict(rat["c/b"], TARGETS["c_over_b"], "c/b = {:.2f}")
    out.append(("c <= b / 3 (3 x faster than pandas)", v, text))
    v, text = verdict(rat["d/c"], TARGETS["d_over_c"], "d/c = {:.1%}")
    out.append(("d <= 5 % of c", v, text))
    peaks = [summary[k]["peak_mib"] for k in "cd" if k in summary and summary[k]["ok"]]
    v, text = verdict(max(peaks) if peaks else None, TARGETS["rss_mib"], "{:.0f} MiB (c, d)")
    out.append(("peak RSS <= 4 GiB", v, text))
    total, parts = startup_total(rows)
    v, text = verdict(total, TARGETS["startup_s"], "{:.1f} s" + (f" ({parts})" if parts else ""))
    out.append(("fixed start-up <= 20 s", v, text))
    if later_rows:  # a later night: the warehouse's dbt parse state exists (no full parse)
        total, parts = startup_total(later_rows)
        v, text = verdict(
            total, TARGETS["startup_s"], "{:.1f} s" + (f" ({parts})" if parts else "")
        )
        out.append(("fixed start-up <= 20 s, later night (d)", v, text))
    if any(not summary[k]["ok"] for k in summary):
        failed = ", ".join(k for k in summary if not summary[k]["ok"])
        out.append(("every contender succeeded", "MISS", f"failed: {failed}"))
    return out


def _fmt(value: float | None, spec: str) -> str:
    width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
    return f"{'-':>{width or 1}}" if value is None else format(value, spec)


def table_lines(summary: dict[str, dict]) -> list[str]:
    lines = [
        f"| {'contender':<26} | {'wall s':>8} | {'rows':>11} | {'rows/s':>10} | "
        f"{'peak RSS MiB':>12} | {'cpu s':>8} |",
        f"|{'-' * 28}|{'-' * 10}|{'-' * 13}|{'-' * 12}|{'-' * 14}|{'-' * 10}|",
    ]
    for letter, s in summary.items():
        rate = s["rows"] / s["wall_s"] if s["rows"] and s["wall_s"] else None
        name = NAMES[letter] + ("" if s["ok"] else " CAPPED" if s.get("capped") else " FAILED")
        lines.append(
            f"| {name:<26} | {_fmt(s['wall_s'], '8.2f')} | "
            f"{_fmt(s['rows'], '11,d')} | {_fmt(rate, '10,.0f')} | "
            f"{_fmt(s['peak_mib'], '12.0f')} | {_fmt(s.get('cpu_s'), '8.1f')} |"
        )
    return lines


def row_checks(reps: list[dict], history: Path) -> list[str]:
    """Rows read per record type: each contender against the generator's truth.json."""
    truth_path = history / "truth.json"
    truth = json.loads(truth_path.read_text()).get("landing", {}) if truth_path.exists() else {}
    first = reps[0] if reps else {}
    cols = [k for k in "abc" if k in first and first[k]["detail"].get("rows_by_type")]
    lines = [
        "rows read per record type: "
        + ", ".join(
            ["truth.json" if truth else "(no truth.json)"] + [NAMES[k].split()[0] for k in cols]
        )
    ]
    for rt in corpus.RECORD_FOLDERS:
        values = [str(truth.get(rt, {}).get("rows_read", "-"))] if truth else []
        values += [str(first[k]["detail"]["rows_by_type"].get(rt, "-")) for k in cols]
        lines.append(f"  {rt:<12} " + "  ".join(f"{v:>10}" for v in values))
    return lines


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )

    def git(*a: str) -> str:
        try:
            return subprocess.run(
                ["git", *a], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    import duckdb
    import pandas

    dirty = git("status", "--porcelain", "--", "pipelines", "dbt_project", "expectations")
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem / 2**20:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": f"duckdb {duckdb.__version__}, pandas {pandas.__version__}",
        "commit": git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else ""),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs per contender (median); default 3 at small scale, 1 at city scale",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--only", default="abcd", help="contenders to run, e.g. 'ab'")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--nights",
        type=int,
        default=1,
        help="incremental nights in a row after (c) (is d flat as history grows?)",
    )
    parser.add_argument(
        "--rss-cap-mib",
        type=float,
        default=RSS_CAP_MIB,
        help="kill a contender whose process tree exceeds this (default 12 GiB)",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate even if present")
    parser.add_argument(
        "--fabricate",
        action="store_true",
        help="bench.fabricate's tiny corpus instead of the project's generator",
    )
    args = parser.parse_args(argv)
    LIMITS["rss_cap_mib"] = args.rss_cap_mib
    scale = SCALES[args.scale]
    repeat = args.repeat or scale["repeat"]
    out = args.out.resolve()
    data = out / "data" / args.scale
    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    host = machine()  # at the start: the commit measured, not the one at the end
    print(
        f"bench: scale {args.scale} ({scale['stations']} stations x {scale['days']} days, "
        f"{scale['traffic']} traffic rows per station-day), {repeat} run(s) per contender"
    )

    info = corpus.ensure(
        data,
        stations=scale["stations"],
        days=scale["days"],
        seed=args.seed,
        traffic=scale["traffic"],
        fabricated=args.fabricate,
        regenerate=args.regenerate,
    )
    print(
        ("reused" if info.get("reused") else "generated")
        + f" {info.get('history_files')} files, {info.get('history_mib')} MiB under "
        f"{data / 'history'} (generated in {info.get('generate_s', 0):.1f} s); "
        f"incremental night: {info['nextday'].get('files')} files "
        f"({info['nextday'].get('method')})"
    )

    more_nights = (
        [corpus.extra_night(data, k) for k in range(2, args.nights + 1)]
        if not args.fabricate
        else []
    )
    logs = out / "logs" / args.scale
    logs.mkdir(parents=True, exist_ok=True)
    reps = []
    for rep in range(repeat):
        print(f"run {rep + 1}/{repeat}")
        reps.append(
            run_repetition(
                rep,
                out / "work" / args.scale / f"rep{rep}",
                data / "history",
                data / "nextday",
                args.only,
                logs,
                more_nights,
            )
        )
        if rep < repeat - 1:  # keep the last warehouse for inspection, drop the others
            shutil.rmtree(out / "work" / args.scale / f"rep{rep}", ignore_errors=True)

    summary = summarise(reps)
    rat = ratios(summary)
    rows, rows_d = breakdown(reps), breakdown(reps, "d")
    verdicts = targets(summary, rat, rows, rows_d)
    load = ", ".join(f"{x:.1f}" for x in (*load_start[:1], *os.getloadavg()[:1]))
    lines = [
        f"bench {args.scale}, {started:%Y-%m-%d %H:%M} UTC, median of {repeat} run(s); "
        f"load average at start, end: {load} ({os.cpu_count()} cores)",
        "",
    ]
    lines += table_lines(summary)
    lines.append("")
    lines += [f"{k} = {_fmt(v, '.3f')}" for k, v in rat.items()]
    nights = [
        k for k in ("d", *(f"d{n}" for n in range(2, args.nights + 1))) if any(k in r for r in reps)
    ]
    if len(nights) > 1:
        lines.append(
            "incremental nights in a row, wall s (median): "
            + ", ".join(
                f"{k} {_median([r[k]['wall_s'] for r in reps if k in r]):.1f}" for k in nights
            )
        )
    for letter in "ab":
        phases = phase_medians(reps, letter)
        if phases:
            lines.append(
                f"phases of ({letter}), s: " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
            )
    if rows:
        lines += ["", "breakdown of (c), seconds (median):"]
        lines += [f"  {name:<40} {_fmt(value, '8.2f')}" for name, value in rows]
    if rows_d:
        lines += ["", "breakdown of (d), seconds (median):"]
        lines += [f"  {name:<40} {_fmt(value, '8.2f')}" for name, value in rows_d]
    lines += ["", "targets:"]
    lines += [f"  {v:<4}  {name:<38} {text}" for name, v, text in verdicts]
    lines += [""] + row_checks(reps, data / "history")
    print("\n" + "\n".join(lines))

    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    stem = f"{args.scale}-{started:%Y%m%dT%H%M%SZ}"
    record = {
        "scale": args.scale,
        "params": scale,
        "repeat": repeat,
        "started": started,
        "command": f"make bench SCALE={args.scale}",
        "machine": host,
        "corpus": info,
        "summary": summary,
        "ratios": rat,
        "breakdown": rows,
        "targets": verdicts,
        "runs": reps,
    }
    (results / f"{stem}.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=1, default=str)
    )
    m = record["machine"]
    entry = [
        f"## {started:%Y-%m-%d} · {args.scale} · commit {m['commit']}",
        "",
        f"- machine: {m['cpu']}, {m['memory']}, {m['os']}; Python {m['python']}, {m['versions']}",
        f"- command: `make bench SCALE={args.scale}` (median of {repeat})",
        f"- corpus: {info.get('history_files')} files, {info.get('history_mib')} MiB; "
        f"incremental night {info['nextday'].get('files')} files",
        "",
        "```",
        *lines[2:],
        "```",
        "",
        "What changed since the last entry: …",
        "",
    ]
    (results / f"{stem}.md").write_text("\n".join(entry))
    print(f"\nresults: {results / stem}.json, entry for bench/RESULTS.md: {results / stem}.md")
    return 0 if all(summary[k]["ok"] for k in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
