"""Landing alone against DuckDB's own read_csv, on the same traffic CSV files, in one run.

The traffic CSVs of a generated corpus are copied twice, once all UTF-8 and once all GBK
(files with a character GBK lacks stay GB18030), xlsx and broken files left out. Then, each in
a fresh process-local database:

- landing UTF-8 / landing GBK: `pipelines.landing.land_record_type` (decode, header mapping,
  typing, row rules, ledger, quarantine);
- DuckDB read_csv: contender (a) of bench/run.py on the UTF-8 copy (prescan for the header
  line, then read_csv with an explicit all-VARCHAR schema to zstd Parquet), its DuckDB phase
  and its total.

    python bench/landing.py --raw bench/out/data/small/history [--out bench/out/landing]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from bench import limit  # noqa: E402
from pipelines.landing import ensure_schema, land_record_type  # noqa: E402
from pipelines.landing.decode import FileFailed, detect_encoding, fingerprint  # noqa: E402
from pipelines.landing.limits import Limits  # noqa: E402


def copy_as(src: Path, dst: Path, encoding: str) -> int:
    """Every readable traffic CSV under src re-encoded to `encoding` (or GB18030 if it must)."""
    count = 0
    for path in sorted((src / "traffic").rglob("*.csv")):
        try:
            data = path.read_bytes()
            text = data.decode(detect_encoding(data, fingerprint(data)))
        except FileFailed:
            continue  # broken on purpose: not a throughput case
        if not text.strip():
            continue
        target = dst / "traffic" / path.relative_to(src / "traffic")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("gb18030")
        target.write_bytes(data)
        count += 1
    return count


def time_landing(raw: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(f"{tmp}/w.duckdb") as conn:
        ensure_schema(conn)
        start = time.perf_counter()
        # the copies were written seconds ago: measure the landing, not the settle interval
        result = land_record_type(conn, raw, "traffic", "bench", limits=Limits(settle_seconds=0))
        elapsed = time.perf_counter() - start
    return elapsed, result.as_metadata()["rows_landed"] + result.as_metadata()["rows_quarantined"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/out/landing"))
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    utf8, gbk = args.out / "utf8", args.out / "gbk"
    files = copy_as(args.raw, utf8, "utf-8")
    copy_as(args.raw, gbk, "gbk")

    rows_out = []
    for name, raw in (("landing UTF-8", utf8), ("landing GBK", gbk)):
        seconds, rows = time_landing(raw)
        rows_out.append((name, seconds, rows))
    result = limit.run(utf8, args.out / "limit")
    rows = result["rows"]
    rows_out.append(("DuckDB read_csv (explicit schema)", result["phases"]["duckdb"], rows))
    rows_out.append(("  same, with prescan", sum(result["phases"].values()), rows))

    print(f"traffic CSV files: {files}")
    print(f"| {'contender':<36} | {'wall s':>7} | {'rows':>10} | {'rows/s':>10} |")
    print(f"|{'-' * 38}|{'-' * 9}|{'-' * 12}|{'-' * 12}|")
    for name, seconds, n in rows_out:
        print(f"| {name:<36} | {seconds:7.2f} | {n:>10,} | {n / seconds:>10,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
