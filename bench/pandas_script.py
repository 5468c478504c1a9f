"""Contender (b): the hand-rolled pandas script a user would write instead of the project.

Per file: pandas.read_csv with the detected encoding (pandas decodes GBK/GB18030 itself) below
the header line, or pandas.read_excel for every sheet; blank, totals, title and repeated header
lines dropped; header synonyms mapped to canonical names; station from the column, else the
填报单位 title line, else the folder. Then per record type: dates and times (ISO, 2022/7/15,
2022年7月15日, 20220715, Excel serials), counts (full-width digits, units, empty = 0),
booleans, and "latest export wins" per natural key; one zstd Parquet per record type.

    python -m bench.pandas_script --raw DIR --out DIR [--result FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.exports import (  # noqa: E402
    BOOL_FIELDS,
    COUNT_FIELDS,
    DATE_FIELDS,
    KEYS,
    LINE_MARKERS,
    RECORD_TYPES,
    STATION_FIELD,
    TIMESTAMP_FIELDS,
    Table,
    date_in_name,
    fields,
    find_header,
    make_table,
    prescan,
    station_from_path,
)

TRUE_WORDS = ["是", "y", "yes", "√", "✓", "1", "已整改", "true", "t", "有"]
_DATE = (
    r"^(?P<year>\d{4})[-/.年](?P<month>\d{1,2})[-/.月](?P<day>\d{1,2})日?"
    r"(?:[ T]+(?P<hour>\d{1,2})[:时](?P<minute>\d{1,2})(?:[:分](?P<second>\d{1,2}))?)?"
)
_COMPACT = r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$"


@dataclass
class Files:
    """Per-file lineage, kept once per file instead of once per row."""

    rels: list[str] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    station: list[str] = field(default_factory=list)
    key_headers: set[str] = field(default_factory=set)

    def add(self, tb: Table, mtime: float) -> int:
        self.rels.append(tb.rel)
        self.exported.append(
            tb.exported_title
            or date_in_name(tb.rel)
            or dt.datetime.fromtimestamp(mtime).isoformat(sep=" ")
        )
        self.station.append(tb.station_title or station_from_path(tb.rel))
        self.key_headers.add(tb.key_header)
        return len(self.rels) - 1


def _skip_line(first: str) -> bool:
    first = first.strip()
    return not first or first.replace(" ", "").replace("\u3000", "").startswith(LINE_MARKERS)


def _frame(tb: Table, df: pd.DataFrame, files: Files, mtime: float) -> pd.DataFrame:
    """One file's (or sheet's) data rows: blank, totals and title lines dropped (the first
    non-empty cell decides), canonical columns as Arrow strings, file number and line."""
    arr = df.to_numpy(dtype=object)
    n = len(arr)
    if n:
        nonempty = arr != ""
        first = arr[np.arange(n), nonempty.argmax(axis=1)]
        keep = np.fromiter((not _skip_line(f) for f in first), bool, n)
        arr = arr[keep]
        lines = df.index.to_numpy()[keep] + tb.header_index + 2
    else:
        lines = np.empty(0, np.int64)
    cols = {f: pd.array(arr[:, i], dtype="str") for i, f in tb.mapping.items()}
    cols["_file"] = np.full(len(arr), files.add(tb, mtime), dtype=np.int32)
    cols["_line"] = lines.astype(np.int32)
    return pd.DataFrame(cols)


def data_rows(rt: str, df: pd.DataFrame, files: Files) -> pd.DataFrame:
    """Cells stripped, repeated header lines dropped, station from the column, else the title
    line, else the folder; lineage columns from the per-file table."""
    for f in fields(rt):
        df[f] = df[f].fillna("").str.strip() if f in df else ""
    df = df[~df[KEYS[rt]].isin(files.key_headers)].copy()
    station = STATION_FIELD[rt]
    fallback = np.asarray(files.station, dtype=object)[df["_file"].to_numpy()]
    df[station] = df[station].mask(df[station].eq(""), pd.array(fallback, dtype="str"))
    return df


def read_csv_table(tb: Table, files: Files) -> pd.DataFrame:
    n = len(tb.header)
    df = pd.read_csv(
        tb.path,
        encoding=tb.encoding,
        header=None,
        skiprows=tb.header_index + 1,
        names=range(n),
        usecols=range(n),
        dtype=object,
        keep_default_na=False,
        skip_blank_lines=True,
    )
    return _frame(tb, df, files, tb.path.stat().st_mtime)


def _excel_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_excel_tables(path: Path, rel: str, rt: str, files: Files) -> list[pd.DataFrame]:
    frames = []
    sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    for sheet, df in sheets.items():
        rows = df.head(40).map(_excel_text).values.tolist()
        found = find_header(rt, rows)
        if found is None:
            continue
        index, mapping = found
        tb = make_table(path, rel, rt, None, sheet, rows, index, mapping)
        body = df.iloc[index + 1 :, : len(tb.header)].map(_excel_text)
        body.columns = range(body.shape[1])
        frames.append(_frame(tb, body, files, path.stat().st_mtime))
    return frames


DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


def parse_datetimes(s: pd.Series) -> pd.Series:
    """The usual formats one after the other on what is still unparsed, then Excel serials,
    then a regex for anything else (full-width digits, 时/分)."""
    s = s.fillna("").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in DATETIME_FORMATS:
        rest = out.isna() & s.ne("")
        if not rest.any():
            return out
        out[rest] = pd.to_datetime(s[rest], format=fmt, errors="coerce")
    rest = out.isna() & s.str.fullmatch(r"\d{5}(?:\.\d+)?")
    if rest.any():
        serial = pd.to_numeric(s[rest], errors="coerce")
        out[rest] = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D")
    rest = out.isna() & s.ne("")
    if rest.any():
        out[rest] = _parse_by_regex(s[rest].str.normalize("NFKC"))
    return out


def _parse_by_regex(s: pd.Series) -> pd.Series:
    parts = s.str.extract(_DATE)
    compact = s.str.extract(_COMPACT)
    for col in ("year", "month", "day"):
        parts[col] = parts[col].fillna(compact[col])
    parts = parts.apply(pd.to_numeric, errors="coerce")
    parts[["hour", "minute", "second"]] = parts[["hour", "minute", "second"]].fillna(0)
    return pd.to_datetime(
        parts[["year", "month", "day", "hour", "minute", "second"]], errors="coerce"
    )


def parse_counts(s: pd.Series) -> pd.Series:
    digits = s.astype(str).str.normalize("NFKC").str.extract(r"(-?\d+)")[0]
    return pd.to_numeric(digits, errors="coerce").fillna(0).astype("int64")


def parse_booleans(s: pd.Series) -> pd.Series:
    return s.astype(str).str.normalize("NFKC").str.strip().str.lower().isin(TRUE_WORDS)


def standardise(rt: str, df: pd.DataFrame, files: Files) -> pd.DataFrame:
    for f in DATE_FIELDS[rt]:
        df[f] = parse_datetimes(df[f]).dt.date
    for f in TIMESTAMP_FIELDS[rt]:
        df[f] = parse_datetimes(df[f])
    for f in COUNT_FIELDS[rt]:
        df[f] = parse_counts(df[f])
    for f in BOOL_FIELDS[rt]:
        df[f] = parse_booleans(df[f])
    station = STATION_FIELD[rt]
    df[station] = df[station].str.normalize("NFKC").str.replace(r"\s", "", regex=True)
    exported = parse_datetimes(pd.Series(files.exported, dtype="str")).to_numpy()
    path_rank = np.argsort(np.argsort(np.asarray(files.rels, dtype=object)))
    codes = df["_file"].to_numpy()
    df["_exported_at"] = exported[codes]
    df["_path_rank"] = path_rank[codes]
    key = KEYS[rt]
    df = df[df[key].ne("")]
    df = df.sort_values([key, "_exported_at", "_path_rank", "_line"])
    df = df.drop_duplicates(subset=[key], keep="last").reset_index(drop=True)
    df["_source_path"] = (
        pd.Categorical.from_codes(df.pop("_file"), categories=files.rels)
        if len(set(files.rels)) == len(files.rels)
        else np.asarray(files.rels)[df.pop("_file")]
    )
    return df.drop(columns="_path_rank")


def run(raw: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    t = time.perf_counter()
    scan = prescan(raw)
    phases["prescan"] = time.perf_counter() - t

    t = time.perf_counter()
    frames: dict[str, list[pd.DataFrame]] = {rt: [] for rt in RECORD_TYPES}
    files = {rt: Files() for rt in RECORD_TYPES}
    failed = list(scan.failed)
    for tb in scan.tables:
        try:
            frames[tb.record_type].append(read_csv_table(tb, files[tb.record_type]))
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            failed.append((tb.rel, type(exc).__name__))
    phases["read_csv"] = time.perf_counter() - t
    t = time.perf_counter()
    for path, rel, rt in scan.xlsx:
        try:
            frames[rt].extend(read_excel_tables(path, rel, rt, files[rt]))
        except Exception as exc:  # noqa: BLE001 - a broken workbook fails alone
            failed.append((rel, f"xlsx: {type(exc).__name__}"))
    phases["read_excel"] = time.perf_counter() - t

    t = time.perf_counter()
    rows_read, rows_out = {}, {}
    for rt in RECORD_TYPES:
        if not frames[rt]:
            rows_read[rt] = rows_out[rt] = 0
            continue
        df = data_rows(rt, pd.concat(frames[rt], ignore_index=True), files[rt])
        frames[rt] = []
        rows_read[rt] = len(df)
        df = standardise(rt, df, files[rt])
        rows_out[rt] = len(df)
        df.to_parquet(out / f"{rt}.parquet", compression="zstd", index=False)
        del df
    phases["standardise_write"] = time.perf_counter() - t
    return {
        "contender": "b",
        "rows": sum(rows_read.values()),
        "rows_by_type": rows_read,
        "rows_out_by_type": rows_out,
        "phases": phases,
        "files": {
            "csv": len(scan.tables),
            "xlsx": len(scan.xlsx),
            "failed": len(failed),
            "duplicate": len(scan.duplicates),
        },
        "failed_files": failed[:20],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--result", type=Path)
    args = parser.parse_args(argv)
    result = run(args.raw, args.out)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.result:
        args.result.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
