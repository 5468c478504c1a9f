"""Contender (a), the physical limit: bare DuckDB over the same exports, explicit schema.

Python does only what DuckDB cannot: a prescan (sha256 of every file so byte-identical copies
are skipped, encoding detection, the header line and the title values above it), streaming
GBK/GB18030 -> UTF-8 transcoding, and xlsx -> CSV with calamine (as the landing); each phase is
timed on its own. DuckDB then reads every CSV with an explicit all-VARCHAR schema (no sniffing;
files with the same header layout share one read_csv over a file list), drops blank, totals,
title and repeated header lines, maps the columns to the canonical names and writes one
zstd Parquet per record type. No typing, no dedupe: that is the standardisation (b), (c) do.

    python -m bench.limit --raw DIR --out DIR [--result FILE]
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as dt
import json
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.exports import (  # noqa: E402
    LINE_MARKERS,
    RECORD_TYPES,
    STATION_FIELD,
    Table,
    date_in_name,
    fields,
    prescan,
    station_from_path,
    xlsx_tables,
)

CHUNK = 1 << 20
MIN_BUFFER, MAX_BUFFER = 1 << 18, 1 << 25


def transcode(src: Path, dst: Path, encoding: str) -> None:
    """Stream a file to UTF-8 (1 MiB chunks, incremental decoder: memory independent of size)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        while chunk := fin.read(CHUNK):
            fout.write(decoder.decode(chunk))
        fout.write(decoder.decode(b"", final=True))


def _xlsx_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(
    path: Path, rel: str, rt: str, folder: Path, start: int
) -> list[tuple[Table, Path]]:
    out = []
    for n, (table, rows) in enumerate(xlsx_tables(path, rel, rt), start):
        dst = folder / f"{n}.csv"
        with open(dst, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(table.header)
            for cells in rows:
                writer.writerow([_xlsx_value(c) for c in cells])
        table.header_index = 0
        table.encoding = "utf-8"
        out.append((table, dst))
    return out


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _group_sql(
    rt: str, ncols: int, mapping: dict[int, str], key_header: str, skip: int, paths: list[Path]
) -> str:
    cols = [f"c{i}" for i in range(ncols)]
    schema = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    files = "[" + ", ".join(_sql_str(str(p)) for p in paths) + "]"
    by_field = {f: f"r.c{i}" for i, f in mapping.items()}
    station = STATION_FIELD[rt]
    select = []
    for f in fields(rt):
        if f == station:
            select.append(
                f"coalesce({by_field.get(f, 'NULL')}, m.station_title, m.path_station) AS {f}"
            )
        else:
            select.append(f"{by_field.get(f, 'NULL::VARCHAR')} AS {f}")
    key_col = next(
        f"r.c{i}" for i, f in mapping.items() if f in ("inspection_id", "dispute_id", "ticket_id")
    )
    first = "coalesce(" + ", ".join(f"r.{c}" for c in cols) + ")" if ncols > 1 else "r.c0"
    markers = "|".join(LINE_MARKERS)
    # DuckDB's default 32 MiB buffer per file dominates for many small files: size it to them.
    largest = max(p.stat().st_size for p in paths)
    buffer = min(MAX_BUFFER, max(MIN_BUFFER, 1 << max(largest, 1).bit_length()))
    return (
        f"SELECT {', '.join(select)}, m.rel AS _source_path, m.exported AS _exported_at\n"
        f"FROM read_csv({files}, header=false, auto_detect=false, delim=',', quote='\"', "
        f"escape='\"', skip={skip}, columns={schema}, null_padding=true, strict_mode=false, "
        f"buffer_size={buffer}, max_line_size={min(buffer, MIN_BUFFER)}, "
        f"filename=true) r JOIN bench_files m ON r.filename = m.path\n"
        f"WHERE {first} IS NOT NULL\n"
        f"  AND NOT regexp_matches(regexp_replace({first}, '[ \\x{{3000}}]', '', 'g'), "
        f"'^({markers})')\n"
        f"  AND coalesce(trim({key_col}), '') <> {_sql_str(key_header)}"
    )


def run(raw: Path, out: Path, tmp: Path | None = None, threads: int | None = None) -> dict:
    import duckdb
    import pyarrow as pa

    out.mkdir(parents=True, exist_ok=True)
    tmp = tmp or out / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "utf8").mkdir(parents=True)
    (tmp / "xlsx").mkdir(parents=True)
    phases: dict[str, float] = {}

    t = time.perf_counter()
    scan = prescan(raw)
    phases["prescan"] = time.perf_counter() - t

    t = time.perf_counter()
    readable: list[tuple[Table, Path]] = []
    transcoded_bytes = 0
    for n, table in enumerate(scan.tables):
        if table.encoding == "gb18030":
            dst = tmp / "utf8" / f"{n}.csv"
            try:
                transcode(table.path, dst, "gb18030")
            except UnicodeDecodeError as exc:
                scan.failed.append((table.rel, f"undecodable: {exc.reason}"))
                continue
            transcoded_bytes += table.path.stat().st_size
            readable.append((table, dst))
        else:
            readable.append((table, table.path))
    phases["transcode"] = time.perf_counter() - t

    t = time.perf_counter()
    sheets = 0
    for path, rel, rt in scan.xlsx:
        try:
            converted = xlsx_to_csv(path, rel, rt, tmp / "xlsx", sheets)
        except Exception as exc:  # noqa: BLE001 - a broken workbook fails alone
            scan.failed.append((rel, f"xlsx: {type(exc).__name__}"))
            continue
        sheets += len(converted)
        readable.extend(converted)
    phases["xlsx"] = time.perf_counter() - t

    t = time.perf_counter()
    conn = duckdb.connect()
    # Row order across files is irrelevant here; keeping it makes COPY buffer (4.4 GiB at city).
    conn.execute("SET preserve_insertion_order = false")
    if threads:
        conn.execute(f"SET threads = {int(threads)}")
    conn.register(
        "bench_files",
        pa.table(
            {
                "path": [str(p) for _, p in readable],
                "rel": [tb.rel for tb, _ in readable],
                "station_title": [tb.station_title for tb, _ in readable],
                "path_station": [station_from_path(tb.rel) for tb, _ in readable],
                "exported": [tb.exported_title or date_in_name(tb.rel) for tb, _ in readable],
            }
        ),
    )
    groups: dict[tuple, list[Path]] = defaultdict(list)
    for tb, p in readable:
        key = (
            tb.record_type,
            len(tb.header),
            tuple(sorted(tb.mapping.items())),
            tb.key_header,
            tb.header_index + 1,
        )
        groups[key].append(p)
    rows: dict[str, int] = {}
    for rt in RECORD_TYPES:
        parts = [
            _group_sql(rt, ncols, dict(mapping), key_header, skip, paths)
            for (grt, ncols, mapping, key_header, skip), paths in groups.items()
            if grt == rt
        ]
        target = out / f"{rt}.parquet"
        if not parts:
            rows[rt] = 0
            continue
        query = "\nUNION ALL BY NAME\n".join(parts)
        written = conn.execute(
            f"COPY ({query}) TO {_sql_str(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()
        rows[rt] = int(written[0]) if written else 0
    conn.close()
    phases["duckdb"] = time.perf_counter() - t
    shutil.rmtree(tmp, ignore_errors=True)

    return {
        "contender": "a",
        "rows": sum(rows.values()),
        "rows_by_type": rows,
        "phases": phases,
        "files": {
            "csv": len(scan.tables),
            "xlsx": len(scan.xlsx),
            "xlsx_sheets": sheets,
            "failed": len(scan.failed),
            "duplicate": len(scan.duplicates),
            "transcoded": sum(1 for tb, p in readable if tb.encoding == "gb18030"),
            "transcoded_mib": round(transcoded_bytes / 2**20, 1),
            "read_csv_groups": len(groups),
        },
        "failed_files": scan.failed[:20],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--result", type=Path)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    result = run(args.raw, args.out, threads=args.threads)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.result:
        args.result.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
