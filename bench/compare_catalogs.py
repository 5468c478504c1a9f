"""Do two code versions publish the same figures? Build the same inputs with both, compare.

    .venv/bin/python bench/compare_catalogs.py [--base main] [--work DIR] [--keep]

The base revision is checked out into a temporary `git worktree` (removed afterwards); the
working tree is the other version. Each input is built by each version with the nightly job
(`python -m pipelines.cli run`, the code found through PYTHONPATH, its own dbt project and
suites, a separate WAREHOUSE_HOME per build, the same WAREHOUSE_PII_KEY): the committed sample
(raw/) and three corpora of `warehouse generate` (a few seeds and sizes). Then every table
that published/latest.json lists is read from its Parquet files in both builds and compared
row for row, ignoring row order (a multiset difference, EXCEPT ALL both ways); one line per
table: identical, or how it differs with a sample of rows found on one side only.

Clock stamps: some published timestamps are when this warehouse saw, loaded or set aside a
file (file_ledger.first_seen_at and loaded_at, quarantine.quarantined_at, the coverage mart's
arrival times, and exported_at of a file that carries no export date). Two builds made minutes
apart differ there by construction. So a timestamp that falls within its own build's run
(between the build's start and end) compares as the marker <clock>; every other value,
timestamps of the data included, must be equal as it is.

Exit status 0 when every table of every input is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
PII_KEY = "compare-catalogs-key"
# (name, stations, days, seed): small enough for a few minutes per build pair
CORPORA = [
    ("generated-s4-d10-seed11", 4, 10, 11),
    ("generated-s6-d14-seed23", 6, 14, 23),
    ("generated-s3-d21-seed37", 3, 21, 37),
]
SAMPLE_ROWS = 3
CLOCK = "<clock>"


def utcnow() -> datetime:
    """The warehouse stamps naive UTC (pipelines/landing/land.py)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Build:
    label: str
    tree: Path
    home: Path
    raw: Path
    seconds: float = 0.0
    ok: bool = False
    summary: str = ""
    started: datetime | None = None
    ended: datetime | None = None


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def generate(out: Path, stations: int, days: int, seed: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "generate",
            "--out",
            str(out),
            "--stations",
            str(stations),
            "--days",
            str(days),
            "--seed",
            str(seed),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )


def run_build(build: Build) -> None:
    """The nightly job of the code in ``build.tree`` on ``build.raw``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(build.tree),
        "WAREHOUSE_HOME": str(build.home),
        "WAREHOUSE_RAW_DIR": str(build.raw),
        "WAREHOUSE_PII_KEY": PII_KEY,
        "WAREHOUSE_DBT_PROJECT_DIR": str(build.tree / "dbt_project"),
        "WAREHOUSE_EXPECTATIONS_DIR": str(build.tree / "expectations"),
        "WAREHOUSE_SETTLE_SECONDS": "0",
        "DBT_USE_COLORS": "false",
    }
    env.pop("DAGSTER_HOME", None)
    # the code that runs is the tree's, not the one installed in the venv
    where = subprocess.run(
        [sys.executable, "-c", "import pipelines; print(pipelines.__file__)"],
        env=env,
        cwd=build.tree,
        check=True,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(build.tree), where.stdout
    started = time.monotonic()
    build.started = utcnow()
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run"],
        env=env,
        cwd=build.tree,
        capture_output=True,
        text=True,
    )
    build.ended = utcnow()
    build.seconds = time.monotonic() - started
    build.summary = result.stdout + result.stderr
    build.ok = (build.home / "published" / "latest.json").exists()
    if not build.ok:
        print(
            f"  {build.label}: nothing published (exit {result.returncode})\n"
            + "\n".join("    " + line for line in build.summary.splitlines()[-15:])
        )


def published(home: Path) -> dict[str, list[str]]:
    latest = json.loads((home / "published" / "latest.json").read_text())
    return {name: entry["files"] for name, entry in latest["tables"].items()}


def _relation(
    conn: duckdb.DuckDBPyConnection, files: list[str], name: str, build: Build
) -> list[str]:
    """Create view ``name`` over the Parquet files, timestamps within the build's run shown as
    the marker CLOCK. Returns the columns with their types as published."""
    conn.execute(
        f"CREATE OR REPLACE VIEW {name}_raw AS SELECT * FROM "
        f"read_parquet({files!r}, hive_partitioning = false)"
    )
    columns = conn.execute(f"DESCRIBE {name}_raw").fetchall()
    select = []
    for column, kind, *_ in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        if kind.startswith("TIMESTAMP") and build.started and build.ended:
            select.append(
                f"CASE WHEN {quoted} BETWEEN TIMESTAMP '{build.started}' AND "
                f"TIMESTAMP '{build.ended}' THEN '{CLOCK}' "
                f"ELSE CAST({quoted} AS VARCHAR) END AS {quoted}"
            )
        else:
            select.append(quoted)
    conn.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(select)} FROM {name}_raw")
    return [f"{c} {k}" for c, k, *_ in columns]


def compare(base: Build, new: Build) -> list[tuple[str, bool, str]]:
    """(table, identical, text) for every table either build published."""
    conn = duckdb.connect()
    base_files, new_files = published(base.home), published(new.home)
    out = []
    for table in sorted(set(base_files) | set(new_files)):
        if table not in base_files or table not in new_files:
            side = "base" if table in base_files else "working tree"
            out.append((table, False, f"published by the {side} only"))
            continue
        a = _relation(conn, base_files[table], "a", base)
        b = _relation(conn, new_files[table], "b", new)
        if a != b:
            out.append((table, False, f"columns differ: base {a} / working tree {b}"))
            continue
        rows = conn.execute("SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)").fetchone()
        differ = {}
        for side, (x, y) in (("base only", ("a", "b")), ("working tree only", ("b", "a"))):
            diff = f"(SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})"
            count = conn.execute(f"SELECT count(*) FROM {diff}").fetchone()[0]
            sample = conn.execute(
                f"SELECT * FROM {diff} ORDER BY ALL LIMIT {SAMPLE_ROWS}"
            ).fetchall()
            differ[side] = (count, sample)
        if not any(count for count, _ in differ.values()):
            stamps = [c.split(" ")[0] for c in a if c.split(" ", 1)[1].startswith("TIMESTAMP")]
            clocked = (
                stamps
                and conn.execute(
                    "SELECT count(*) FROM a WHERE "
                    + " OR ".join(f"\"{c}\" = '{CLOCK}'" for c in stamps)
                ).fetchone()[0]
            )
            clocked = f", {clocked:,} with clock stamps" if clocked else ""
            out.append((table, True, f"identical ({rows[0]:,} rows{clocked})"))
        else:
            sample = "".join(f"\n      {side}: {r}" for side, (_, rs) in differ.items() for r in rs)
            out.append(
                (
                    table,
                    False,
                    f"DIFFERS: {rows[0]:,} vs {rows[1]:,} rows, "
                    f"{differ['base only'][0]:,} only in base, "
                    f"{differ['working tree only'][0]:,} only in the working "
                    f"tree{sample}",
                )
            )
    conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare with (main)")
    parser.add_argument("--work", type=Path, help="folder for the builds (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the builds and the worktree")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="compare-catalogs-"))
    work.mkdir(parents=True, exist_ok=True)
    base_rev = git("rev-parse", "--short", args.base)
    head_rev = git("rev-parse", "--short", "HEAD")
    dirty = (
        " (with uncommitted changes)"
        if git("status", "--porcelain", "--", "pipelines", "dbt_project", "expectations")
        else ""
    )
    base_tree = work / f"base-{base_rev}"
    git("worktree", "add", "--detach", str(base_tree), base_rev)
    print(f"base: {args.base} ({base_rev}) in {base_tree}")
    print(f"working tree: {REPO} (HEAD {head_rev}){dirty}")
    inputs = [("committed-sample", REPO / "raw")]
    for name, stations, days, seed in CORPORA:
        raw = work / "inputs" / name
        if not (raw / "truth.json").exists():
            generate(raw, stations, days, seed)
        inputs.append((name, raw))

    all_identical = True
    try:
        for name, raw in inputs:
            print(f"\n== {name} ({raw})")
            builds = []
            for label, tree in (("base", base_tree), ("working tree", REPO)):
                home = work / "homes" / name / label.replace(" ", "-")
                shutil.rmtree(home, ignore_errors=True)
                build = Build(label, tree, home, raw)
                run_build(build)
                print(
                    f"  {label}: built in {build.seconds:.0f} s" + ("" if build.ok else " (FAILED)")
                )
                for line in build.summary.splitlines():
                    if line.startswith("checks:"):
                        print(f"    {line}")
                builds.append(build)
            if not all(b.ok for b in builds):
                all_identical = False
                continue
            for table, same, text in compare(*builds):
                all_identical &= same
                print(f"  {table:32} {text}")
    finally:
        if not args.keep:
            git("worktree", "remove", "--force", str(base_tree))
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nkept: {work} (remove the worktree with `git worktree remove {base_tree}`)")
    print(
        "\nevery published table identical" if all_identical else "\nSOME PUBLISHED TABLES DIFFER"
    )
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
