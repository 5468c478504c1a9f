"""`make bench SCALE=sweep`: what one night costs as history grows (1x, 3x, 10x a city year).

The city corpus (bench/run.py's, 150 stations x 365 days) is built by the real job from an
empty home (contender c). Older years are then fabricated in bulk inside the working
database rather than as 100 M rows of CSV: every landed row of the city year is copied
into earlier years (dates, export times and record numbers shifted, paths and hashes made
new, one ledger row per fabricated file version), exactly the shape landing would have
written, and a catch-up run of the real job builds, checks and publishes them. At each size
one more real night of generated files is linked into the drop zone and the job runs again,
measured (contender d). Each contender runs in a fresh process (wall, CPU, peak RSS of its
process tree); the nights differ (nights 1, 2, 3 after the history) but have the same shape.

Prints d per size with its stage breakdown, `d slope = <s per M rows of history>` (least
squares over the sizes), `d10/d1`, and the catch-up runs' cost as a bulk-load reference.

    python bench/sweep.py [--sizes 1,3,10] [--out bench/out]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import corpus, run  # noqa: E402

CITY = run.SCALES["city"]
FABRICATED = "history-"  # the folder fabricated versions live in: <record type>/history-<n>/
TARGET_FLAT = 1.2  # d(10x) <= 1.2 x d(1x)
TARGET_RSS_MIB = 4096.0

# the date columns of each landing table, shifted with the record
DATES = {
    "inspections": ("inspected_on",),
    "disputes": ("reported_on", "resolved_on"),
    "traffic": ("occurred_at",),
}


def history_rows(db: Path) -> int:
    """Landed rows of the versions that count: the history a night runs on."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("""
            SELECT coalesce(sum(rows_landed), 0) FROM ops.file_ledger
            WHERE status = 'loaded'""").fetchone()[0]


def fabricate_years(db: Path, years: range) -> dict:
    """Copy the landed rows and ledger rows of the real (not fabricated) versions into the
    years `years` before: each copy a new file version under <type>/history-<n>/."""
    import duckdb

    from pipelines.landing.schema import key_field

    started = time.perf_counter()
    added = 0
    with duckdb.connect(str(db)) as conn:
        conn.execute("SET preserve_insertion_order = false")
        real = f"status = 'loaded' AND path NOT LIKE '%/{FABRICATED}%'"
        for back in years:
            shift = f"INTERVAL {back} YEAR"
            path = f"regexp_replace({{col}}, '^([^/]+)/', '\\1/{FABRICATED}{back}/')"
            sha = f"sha256({{col}} || '-{back}')"
            for record_type, dates in DATES.items():
                key = key_field(record_type)
                replaced = ", ".join(
                    [f"{key} || '-Y{back}' AS {key}"]
                    + [
                        f"CAST({d} - {shift} AS {'TIMESTAMP' if d == 'occurred_at' else 'DATE'})"
                        f" AS {d}"
                        for d in dates
                    ]
                    + [
                        f"{path.format(col='_source_path')} AS _source_path",
                        f"{sha.format(col='_file_sha256')} AS _file_sha256",
                        f"_exported_at - {shift} AS _exported_at",
                        f"_first_seen_at - {shift} AS _first_seen_at",
                        "'fabricated' AS _run_id",
                    ]
                )
                added += conn.execute(f"""
                    INSERT INTO landing.{record_type}
                    SELECT l.* REPLACE ({replaced})
                    FROM landing.{record_type} AS l
                    SEMI JOIN (SELECT path, sha256 FROM ops.file_ledger WHERE {real}) AS v
                        ON v.path = l._source_path AND v.sha256 = l._file_sha256
                    """).fetchone()[0]
            new_path, new_sha = path.format(col="path"), sha.format(col="sha256")
            conn.execute(f"""
                INSERT INTO ops.file_ledger
                SELECT * REPLACE (
                    left(sha256({new_path} || chr(0) || {new_sha}), 24) AS file_version_id,
                    {new_path} AS path, {new_sha} AS sha256,
                    exported_at - {shift} AS exported_at,
                    first_seen_at - {shift} AS first_seen_at,
                    loaded_at - {shift} AS loaded_at,
                    current_since - {shift} AS current_since,
                    'fabricated' AS run_id, NULL AS superseded_by)
                FROM ops.file_ledger WHERE {real}""")
        conn.execute("CHECKPOINT")
    return {"rows": added, "seconds": time.perf_counter() - started}


def _nightly(letter: str, name: str, raw: Path, home: Path, work: Path, logs: Path) -> dict:
    run.NAMES[letter] = name
    result = work / f"{letter}.json"
    return run._contender(
        letter,
        [
            sys.executable,
            "-m",
            "bench.nightly",
            "--raw",
            str(raw),
            "--home",
            str(home),
            "--result",
            str(result),
        ],
        logs / f"sweep-{letter}.log",
        result,
    )


def figures(
    results: dict[str, dict], measured: list[tuple[int, str]], sizes: list[int]
) -> tuple[dict[int, float], float | None, float | None]:
    """(d per size, d(last)/d1, d1/c). A failed run is no measurement: it stays out of every
    figure and target (a night that failed part-way is not a cheap night)."""
    ds = {s: results[x]["wall_s"] for s, x in measured if results[x]["returncode"] == 0}
    flat = ds[sizes[-1]] / ds[1] if 1 in ds and sizes[-1] in ds and ds[1] else None
    c = results["c"]["wall_s"] if results["c"]["returncode"] == 0 else None
    share = ds[1] / c if c and 1 in ds else None
    return ds, flat, share


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y)."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def stage_shares(result: dict) -> list[tuple[str, float | None]]:
    rows = run.breakdown([{"d": result}], "d")
    return [(name, value) for name, value in rows if value is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,3,10", help="history sizes in city years")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--scale",
        choices=("city", "small", "tiny"),
        default="city",
        help="the year that is multiplied (tiny/small: to develop the bench)",
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if sizes[0] != 1:
        parser.error("the sweep starts at 1 (the real year)")
    scale = run.SCALES[args.scale]
    out = args.out.resolve()
    data = out / "data" / args.scale
    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    host = run.machine()
    print(
        f"bench sweep: {args.scale} year ({scale['stations']} stations x {scale['days']} "
        f"days) at {', '.join(f'{s}x' for s in sizes)}"
    )
    info = corpus.ensure(
        data,
        stations=scale["stations"],
        days=scale["days"],
        seed=args.seed,
        traffic=scale["traffic"],
        fabricated=False,
        regenerate=False,
    )
    nights = [data / "nextday"] + [corpus.extra_night(data, k) for k in range(2, len(sizes) + 1)]
    print(
        f"{'reused' if info.get('reused') else 'generated'} {info.get('history_files')} files"
        f" ({info.get('history_mib')} MiB); nights of {info['nextday'].get('files')} files"
    )

    work = out / "work" / "sweep"
    shutil.rmtree(work, ignore_errors=True)
    raw, home = work / "raw", work / "home"
    work.mkdir(parents=True)
    logs = out / "logs" / "sweep"
    logs.mkdir(parents=True, exist_ok=True)
    corpus.link_tree(data / "history", raw)
    db = home / "warehouse.duckdb"

    results: dict[str, dict] = {}
    results["c"] = _nightly("c", "c nightly job (1x, empty home)", raw, home, work, logs)
    have, points, measured = 1, [], []
    for i, size in enumerate(sizes):
        if size > have:
            fab = fabricate_years(db, range(have, size))
            print(
                f"  fabricated {size - have} older year(s): {fab['rows']:,} landed rows in "
                f"{fab['seconds']:.1f} s"
            )
            results[f"p{size}"] = _nightly(
                f"p{size}", f"catch-up run to {size}x", raw, home, work, logs
            )
            have = size
        rows = history_rows(db)
        corpus.link_tree(nights[i], raw, corpus.RECORD_FOLDERS)
        letter = f"d{size}"
        results[letter] = _nightly(
            letter, f"d night on {size}x ({rows / 1e6:.1f} M rows)", raw, home, work, logs
        )
        results[letter]["history_rows"] = rows
        if results[letter]["returncode"] == 0:
            points.append((rows / 1e6, results[letter]["wall_s"]))
        measured.append((size, letter))

    lines = [
        f"bench sweep ({args.scale}), {started:%Y-%m-%d %H:%M} UTC, one run per point; "
        f"load average at start, end: {load_start[0]:.1f}, {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores)",
        "",
        f"| {'run':<34} | {'history M':>9} | {'wall s':>8} | {'rows':>10} | "
        f"{'peak RSS MiB':>12} | {'cpu s':>7} |",
        f"|{'-' * 36}|{'-' * 11}|{'-' * 10}|{'-' * 12}|{'-' * 14}|{'-' * 9}|",
    ]
    for letter, r in results.items():
        hist = r.get("history_rows")
        lines.append(
            f"| {run.NAMES[letter]:<34} | "
            f"{'-' if hist is None else f'{hist / 1e6:.1f}':>9} | "
            f"{r['wall_s']:8.2f} | {r['rows'] or 0:>10,} | {r['peak_mib']:12.0f} | "
            f"{r['cpu_s']:7.1f} |" + ("" if r["returncode"] == 0 else " FAILED")
        )
    lines.append("")
    ds, flat, share = figures(results, measured, sizes)
    lines.append(
        "d: "
        + ", ".join(
            f"d{s} = {ds[s]:.1f} s" if s in ds else f"d{s} = FAILED (not measured)"
            for s, _ in measured
        )
    )
    k = slope(points)
    lines.append(f"d slope = {'-' if k is None else f'{k:.2f}'} s per M rows of history")
    lines.append(f"d{sizes[-1]}/d1 = {'-' if flat is None else f'{flat:.2f}'}")
    c_ok = results["c"]["returncode"] == 0
    lines.append(f"d1/c = {'-' if share is None else f'{share:.3f}'}" if c_ok else "c failed")
    peak = max(results[letter]["peak_mib"] for _, letter in measured)
    lines += [
        "",
        "targets:",
        f"  {'PASS' if flat is not None and flat <= TARGET_FLAT else 'MISS'}  "
        f"d({sizes[-1]}x) <= {TARGET_FLAT} x d(1x)       "
        f"{'-' if flat is None else f'{flat:.2f}'}",
        f"  {'PASS' if share is not None and share <= 0.05 else 'MISS'}  d(1x) <= 5 % of c"
        f"           {'-' if share is None else f'{share:.1%}'}",
        f"  {'PASS' if peak <= TARGET_RSS_MIB else 'MISS'}  peak RSS <= 4 GiB (d)       "
        f"{peak:.0f} MiB",
    ]
    for size, letter in measured:
        lines += ["", f"breakdown of d on {size}x, seconds (share of wall):"]
        wall = results[letter]["wall_s"]
        lines += [
            f"  {name:<40} {value:8.2f}  {value / wall:6.1%}"
            for name, value in stage_shares(results[letter])
        ]
        slowest = (results[letter]["detail"].get("dbt") or {}).get("slowest") or []
        if slowest:
            lines.append(
                "  slowest dbt nodes: "
                + ", ".join(f"{uid.split('.')[-1]} {s:.1f}" for uid, s in slowest[:5])
            )
    print("\n" + "\n".join(lines))

    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sweep-{started:%Y%m%dT%H%M%SZ}"
    (results_dir / f"{stem}.json").write_text(
        json.dumps(
            {
                "started": started,
                "machine": host,
                "sizes": sizes,
                "corpus": info,
                "results": results,
                "slope_s_per_m_rows": k,
                "flat": flat,
            },
            ensure_ascii=False,
            indent=1,
            default=str,
        )
    )
    m = host
    entry = [
        f"## {started:%Y-%m-%d} · sweep · commit {m['commit']}",
        "",
        f"- machine: {m['cpu']}, {m['memory']}, {m['os']}; Python {m['python']}, {m['versions']}",
        "- command: `make bench SCALE=sweep`",
        "",
        "```",
        *lines[2:],
        "```",
        "",
    ]
    (results_dir / f"{stem}.md").write_text("\n".join(entry))
    print(
        f"\nresults: {results_dir / stem}.json, entry for bench/RESULTS.md: {results_dir / stem}.md"
    )
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
