"""Raw lines -> header detection, skipped lines, batches of data rows (lists of cells).

Sources yield (physical line, cells). The scanner classifies each line with a few cheap string
checks (the per-row Python cost bounds throughput) and hands over batches of rows; typing and
row rules run later, column-wise, in DuckDB.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TextIO

from pipelines.landing.decode import open_text
from pipelines.landing.limits import Deadline
from pipelines.landing.mapping import HeaderMapping
from pipelines.landing.normalise import parse_datetime
from pipelines.landing.schema import key_field
from pipelines.textnorm import normalise_text

BATCH_ROWS = 50_000
# A cell longer than this sets its row aside (reason oversized_field); Limits can lower it.
MAX_FIELD_CHARS = 32_768
OVERSIZED_KEEP = 200  # characters of an oversized cell kept in the quarantine row
# A header further down than this many non-blank lines is not a header: the sheet has none.
MAX_TITLE_LINES = 30
HINT_WINDOW = 40
# What counts as blank; the same set in fastcsv.py (Arrow) so both readers agree exactly.
SPACES = " \t\r\n\u3000\xa0"
_DIGIT = re.compile(r"\d")
csv.field_size_limit((1 << 31) - 1)  # see csv_lines
_GAP = re.compile(r"\s{2,}")


@dataclass
class Layout:
    header_line: int
    headers: list[str]  # unique raw header per column ("col_3" for a blank one)
    fields: dict[str, int]  # canonical field -> column index
    width: int

    @property
    def extras(self) -> list[int]:
        mapped = set(self.fields.values())
        return [i for i in range(self.width) if i not in mapped]


@dataclass
class SheetInfo:
    sheet: str | None
    station_title: str | None = None
    exported_title: datetime | None = None
    segments: list[Layout] = field(default_factory=list)
    lines_skipped: int = 0
    rows_read: int = 0
    note: str | None = None


@dataclass
class RowBatch:
    """Rows of one file read under one header layout, with their line numbers."""

    layout: Layout
    lines: list[int] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    # position in rows -> (cells in the line, JSON of cells beyond the header or None, where a
    # quoted line break runs on to: quoted_span, "" for a one-line row)
    malformed: dict[int, tuple[int, str | None, str]] = field(default_factory=dict)
    # position in rows -> why the row is set aside whole (a field longer than the limit)
    oversized: dict[int, str] = field(default_factory=dict)
    # fast path (fastcsv.py): Arrow string columns instead of `rows`
    columns: list | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def column_values(self) -> list:
        if self.columns is not None:
            return self.columns
        return list(zip(*self.rows, strict=True)) if self.rows else [()] * self.layout.width

    def cells(self, index: int) -> list[str | None]:
        if self.columns is not None:
            return [c[index].as_py() for c in self.columns]
        return self.rows[index]


def make_layout(line: int, cells: list[str], fields: dict[str, int]) -> Layout:
    width = max(i for i, c in enumerate(cells) if c.strip()) + 1
    headers: list[str] = []
    for i in range(width):
        name = cells[i].strip() or f"col_{i + 1}"
        unique, n = name, 1
        while unique in headers:
            n += 1
            unique = f"{name}#{n}"
        headers.append(unique)
    return Layout(line, headers, {f: i for f, i in fields.items() if i < width}, width)


def parse_title(cells: list[str], mapping: HeaderMapping) -> dict[str, str]:
    """{'station': …, 'exported_at': …} from a title line such as "填报单位: 古林派出所"."""
    text = unicodedata.normalize("NFKC", " ".join(c for c in cells if c.strip()))
    found: dict[str, str] = {}
    for name, key in (
        ("station", mapping.title_station),
        ("exported_at", mapping.title_exported_at),
    ):
        at = text.find(key)
        if at < 0:
            continue
        value = text[at + len(key) :]
        # the value ends where another key starts (short words such as 注 are not cut on)
        ends = [value.find(k) for k in mapping.title_keys if len(k) > 2 and value.find(k) >= 0]
        value = value[: min(ends)] if ends else value
        value = _GAP.split(value.strip().lstrip(":").strip())[0].strip(" ,;，；")
        if value:
            found[name] = value
    return found


def _first_cells(cells: list[str], n: int = 2) -> list[str]:
    out = []
    for c in cells:
        if c and c.strip():
            out.append(normalise_text(c).rstrip(":"))
            if len(out) == n:
                break
    return out


def _starts_with_marker(cell: str, markers: Iterable[str]) -> bool:
    return any(cell == m or (cell.startswith(m) and not cell[len(m)].isalnum()) for m in markers)


def quoted_span(line: int, cells: list[str]) -> str:
    """Where a record with a quoted line break ends: an unclosed quote swallows the lines below
    it into one cell, and an operator must see which lines the set-aside row holds."""
    # a quote left open to the end of the file holds the last line break too: not a line more
    breaks = sum(c.rstrip("\r\n").count("\n") for c in cells)
    if not breaks:
        return ""
    return (
        f" (a quoted field runs on to line {line + breaks}: lines {line + 1}-{line + breaks} "
        "are inside this row, check for an unclosed quote)"
    )


class Scanner:
    """Line classification for one sheet; data rows accumulate in `batch`."""

    def __init__(
        self,
        record_type: str,
        mapping: HeaderMapping,
        info: SheetInfo,
        pad_short: bool,
        max_field: int = MAX_FIELD_CHARS,
    ):
        self.record_type, self.mapping, self.info = record_type, mapping, info
        self.pad_short = pad_short
        self.max_field = max_field
        self.key = key_field(record_type)
        self.markers = mapping.total_markers
        self.title_keys = mapping.title_keys
        # One regex search over the start of the line decides whether the precise (slower)
        # checks are needed: empty cells add nothing to `joined`, the first cells lead it.
        # (literal characters and one explicit class: Python's re and Arrow's RE2 agree)
        gap = r"[ \t\r\n" + "\u3000\xa0]*"  # = SPACES as a regex class
        self.hint = re.compile(
            "|".join(gap.join(map(re.escape, m)) for m in (*self.markers, *self.title_keys))
        )
        self.layout: Layout | None = None
        self.batch: RowBatch | None = None
        self.title_lines = 0
        self.done = False  # gave up looking for a header

    def before_header(self, line: int, cells: list[str]) -> None:
        fields = self.mapping.header_fields(self.record_type, cells)
        if self.mapping.is_header(self.record_type, fields):
            self.layout = make_layout(line, cells, fields)
            self.info.segments.append(self.layout)
            self.batch = RowBatch(self.layout)
            return
        self.info.lines_skipped += 1
        title = parse_title(cells, self.mapping)
        if "station" in title and self.info.station_title is None:
            self.info.station_title = title["station"]
        if "exported_at" in title and self.info.exported_title is None:
            self.info.exported_title = parse_datetime(title["exported_at"])
        self.title_lines += 1
        self.done = self.title_lines >= MAX_TITLE_LINES

    def is_skipped(self, cells: list[str]) -> bool:
        """Totals or title/footer line below the header (the caller checked the hint)."""
        return any(_starts_with_marker(c, self.markers) for c in _first_cells(cells)) or any(
            _starts_with_marker(c, self.title_keys) for c in _first_cells(cells, 1)
        )

    def header_again(self, line: int, cells: list[str]) -> Layout | None:
        """A header line below the header: None when it is not one, else its layout."""
        fields = self.mapping.header_fields(self.record_type, cells)
        if not self.mapping.is_header(self.record_type, fields):
            return None
        return make_layout(line, cells, fields)

    def feed(self, line: int, cells: list[str]) -> RowBatch | None:
        """Classify one line; returns a batch to hand over when one is complete."""
        joined = "".join(cells)
        if not joined.strip(SPACES):
            self.info.lines_skipped += 1
            return None
        if self.layout is None:
            self.before_header(line, cells)
            return None
        if self.hint.search(joined, 0, HINT_WINDOW) and self.is_skipped(cells):
            self.info.lines_skipped += 1
            return None
        layout = self.layout
        key_cell = cells[layout.fields[self.key]] if layout.fields[self.key] < len(cells) else ""
        if key_cell and not _DIGIT.search(key_cell):
            new = self.header_again(line, cells)
            if new is not None:
                # a repeated header is skipped; a different one starts a new column layout
                self.info.lines_skipped += 1
                if new.headers == layout.headers:
                    return None
                full, self.layout = self.batch, new
                self.info.segments.append(new)
                self.batch = RowBatch(new)
                return full if full.rows else None
        self.add_row(line, cells)
        if len(self.batch.rows) >= BATCH_ROWS:
            full, self.batch = self.batch, RowBatch(self.layout)
            return full
        return None

    def add_row(self, line: int, cells: list[str]) -> None:
        batch, width = self.batch, self.layout.width
        span = None  # counted on the whole cells, before a long one is cut
        if max(map(len, cells), default=0) > self.max_field:
            span = quoted_span(line, cells)
            cells = self._cut_oversized(cells, span)
        n = len(cells)
        if n > width and not "".join(cells[width:]).strip(SPACES):
            cells, n = cells[:width], width
        if n != width:
            if n < width and self.pad_short:
                cells = cells + [""] * (width - n)
            else:
                overflow = json.dumps(cells[width:], ensure_ascii=False) if n > width else None
                if span is None:
                    span = quoted_span(line, cells)
                batch.malformed[len(batch.rows)] = (n, overflow, span)
                cells = cells[:width] + [None] * (width - n)
        batch.lines.append(line)
        batch.rows.append(cells)
        self.info.rows_read += 1

    def _cut_oversized(self, cells: list[str], span: str) -> list[str]:
        """Keep the row (it is set aside with its line), not the megabytes: each long cell is
        cut to its first characters and the row is marked oversized."""
        headers = self.layout.headers
        notes, cut = [], []
        for i, cell in enumerate(cells):
            if len(cell) > self.max_field:
                name = headers[i] if i < len(headers) else f"cell {i + 1}"
                notes.append(f"{name} holds {len(cell):,} characters")
                cell = cell[:OVERSIZED_KEEP] + f"… [{len(cell):,} characters cut]"
            cut.append(cell)
        self.batch.oversized[len(self.batch.rows)] = (
            f"{'; '.join(notes)}, more than the limit of {self.max_field:,}{span}"
        )
        return cut

    def finish(self) -> RowBatch | None:
        if self.layout is None:
            self.info.note = (
                f"no recognisable header in the first {MAX_TITLE_LINES} non-blank lines"
            )
            return None
        full, self.batch = self.batch, RowBatch(self.layout)
        return full if full.rows else None


def scan(
    record_type: str,
    mapping: HeaderMapping,
    source: Iterable[tuple[int, list[str]]],
    info: SheetInfo,
    pad_short: bool,
    max_field: int = MAX_FIELD_CHARS,
    deadline: Deadline | None = None,
) -> Iterator[RowBatch]:
    """Classify lines; yield batches of data rows. Counts go to `info`."""
    scanner = Scanner(record_type, mapping, info, pad_short, max_field)
    for n, (line, cells) in enumerate(source):
        if deadline is not None and not n % 4096:
            deadline.check()
        full = scanner.feed(line, cells)
        if full is not None:
            yield full
        if scanner.done:
            break
    last = scanner.finish()
    if last is not None:
        yield last


def csv_lines(f: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, cells); quoted line breaks keep numbering right.
    The csv module's field limit is lifted (a file is bounded by Limits.max_file_bytes): a
    long field is the row's problem (oversized_field), not the file's."""
    reader = csv.reader(f)
    previous = 0
    for row in reader:
        yield previous + 1, row
        previous = reader.line_num


def csv_data_lines(data: bytes, encoding: str) -> Iterator[tuple[int, list[str]]]:
    with open_text(data, encoding) as f:
        yield from csv_lines(f)


def cell_text(value: object) -> str:
    """An xlsx cell as the text a CSV export would hold (dates ISO, integral floats as ints)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def xlsx_cell_text(value: object) -> str:
    """calamine gives a date-formatted cell without a time part as a date; CSV exports and
    the earlier openpyxl reader write it as midnight, so keep that text."""
    if type(value) is date:
        return f"{value.isoformat()} 00:00:00"
    return cell_text(value)


def xlsx_sheets(data: bytes) -> Iterator[tuple[str, Iterator[tuple[int, list[str]]]]]:
    """Every worksheet of a workbook (chart sheets skipped), read with calamine (Rust; much faster
    than openpyxl on our exports: bench/RESULTS.md, city entry of b410182). Rows are numbered from
    the sheet's row 1. The caller has measured the workbook first (limits.check_xlsx): calamine
    aborts the process, it does not raise, when a sheet's cells span more than it can allocate."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb:
        for meta in wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            # iter_rows makes Python cells one row at a time; it starts at row 1 but at the
            # first used column, so the empty columns before it are put back
            pad = [""] * (sheet.start[1] if sheet.start else 0)
            yield (
                meta.name,
                (
                    (i, pad + [xlsx_cell_text(v) for v in row])
                    for i, row in enumerate(sheet.iter_rows(), start=1)
                ),
            )
