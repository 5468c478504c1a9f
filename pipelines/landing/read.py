"""One file version's bytes -> chunks of data rows with their context, and its ledger fields.

The bytes are read once (land.py); the hash in the ledger, the xlsx limits check and the
parsers all see exactly these bytes. xlsx via calamine (readers.py); CSV without quotes via
Arrow (fastcsv.py), other CSV line by line with the csv module (readers.py): both CSV readers
give identical results."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath

from pipelines.landing.decode import FileFailed, Fingerprint, detect_encoding
from pipelines.landing.fastcsv import Fallback, read_fast
from pipelines.landing.ledger import LedgerRow
from pipelines.landing.limits import Deadline, Limits, check_xlsx
from pipelines.landing.mapping import HeaderMapping
from pipelines.landing.normalise import date_in_name
from pipelines.landing.readers import RowBatch, SheetInfo, csv_data_lines, scan, xlsx_sheets
from pipelines.landing.stage import Context

# Bump when a row rule changes: quarantined rows are re-examined when this or the mapping changes.
RULES_VERSION = "2"
FAST_CSV = True  # Arrow reader for quote-free CSV (fastcsv.py); tests compare it to the slow one

_STEM = re.compile(r"[^_\d]*")


def examined_with(mapping: HeaderMapping) -> str:
    return f"mapping {mapping.version}; rules {RULES_VERSION}"


def station_from_path(rel: str) -> str | None:
    """First folder below raw/<type>/ when it looks like a name (not a date), else the file
    stem up to the first '_' or digit."""
    parts = PurePosixPath(rel).parts
    if len(parts) > 2:
        folder = parts[1].strip()
        if folder and not folder[0].isdigit() and any(c.isalpha() for c in folder):
            return folder
    stem = _STEM.match(PurePosixPath(rel).stem).group(0).strip(" -")
    return stem or None


def _context(
    row: LedgerRow,
    info: SheetInfo,
    mapping: HeaderMapping,
    name_date: datetime | None,
    path_station: str | None,
) -> Context:
    station, source = (
        (info.station_title, "title") if info.station_title else (path_station, "path")
    )
    return Context(
        record_type=row.record_type,
        path=row.path,
        sha256=row.sha256,
        sheet=info.sheet,
        exported_at=info.exported_title or name_date or row.first_seen_at,
        first_seen_at=row.first_seen_at,
        station=station,
        station_source=source,
        mapping_version=mapping.version,
        run_id=row.run_id,
    )


def read_file(
    data: bytes,
    row: LedgerRow,
    mapping: HeaderMapping,
    fp: Fingerprint,
    limits: Limits,
    fast: bool = True,
) -> Iterator[tuple[RowBatch, Context]]:
    """Yield chunks of data rows with their context; at the end fill the ledger fields of
    `row`. Raises FileFailed when the file as a whole cannot be landed."""
    deadline = Deadline(limits.max_seconds)
    if fp.is_zip:
        row.encoding, pad_short = "xlsx", True
        check_xlsx(data, limits)
        sources = xlsx_sheets(data)  # lazy: a damaged workbook raises inside the loop below
    else:
        row.encoding, pad_short = detect_encoding(data, fp), False
        sources = iter([(None, csv_data_lines(data, row.encoding))])
        fast = fast and FAST_CSV and not fp.has_quote
    name_date = date_in_name(PurePosixPath(row.path).name)
    path_station = station_from_path(row.path)
    sheets: list[dict] = []
    loaded: list[SheetInfo] = []
    try:
        for sheet, lines in sources:
            info = SheetInfo(sheet)
            chunks = (
                read_fast(
                    data,
                    row.encoding,
                    row.record_type,
                    mapping,
                    info,
                    limits.max_field_chars,
                    deadline,
                )
                if fast and not fp.is_zip
                else scan(
                    row.record_type,
                    mapping,
                    lines,
                    info,
                    pad_short,
                    limits.max_field_chars,
                    deadline,
                )
            )
            for chunk in chunks:
                yield chunk, _context(row, info, mapping, name_date, path_station)
            detail = {
                "sheet": sheet,
                "rows_read": info.rows_read,
                "lines_skipped": info.lines_skipped,
            }
            if info.segments:
                ctx = _context(row, info, mapping, name_date, path_station)
                loaded.append(info)
                row.rows_read += info.rows_read
                row.lines_skipped += info.lines_skipped
                row.exported_at = row.exported_at or ctx.exported_at
                detail.update(
                    status="loaded",
                    segments=[
                        {
                            "header_line": s.header_line,
                            "headers": s.headers,
                            "exported_at": ctx.exported_at.isoformat(sep=" "),
                            "station": ctx.station,
                            "station_source": ctx.station_source,
                        }
                        for s in info.segments
                    ],
                )
            else:
                detail.update(status="skipped", note=info.note)
            sheets.append(detail)
    except UnicodeDecodeError as exc:
        raise FileFailed(f"undecodable as {row.encoding}: {exc}") from exc
    except (FileFailed, Fallback):
        raise
    except csv.Error as exc:
        raise FileFailed(f"unreadable CSV: {exc}") from exc
    except Exception as exc:
        if fp.is_zip:
            raise FileFailed(f"not a readable xlsx workbook: {type(exc).__name__}: {exc}") from exc
        raise
    if not loaded:
        if not sheets:
            raise FileFailed("workbook has no worksheets")
        where = "in any sheet" if fp.is_zip else f"(decoded as {row.encoding})"
        raise FileFailed(f"no recognisable header {where}: {sheets[0]['note']}")
    row.header_line = loaded[0].segments[0].header_line
    row.sheets = [i.sheet for i in loaded] if fp.is_zip else None
    row.mapping_version = mapping.version
    row.detail.update(sheets=sheets, examined_with=examined_with(mapping))
