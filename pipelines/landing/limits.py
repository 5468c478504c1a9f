"""What one file may cost, and the checks that enforce it before a parser can be hurt.

A hostile or broken file must fail alone, with its reason, never take the process down:
python-calamine (Rust) aborts the interpreter when a sheet's cells span more than it can
allocate (one value at XFD1048576 asks for 17 G cells), so every worksheet of an xlsx is
measured from its XML before calamine opens it: the declared <dimension>, the real extent of
the cells that hold a value, and the uncompressed size of every zip member (zip bombs).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass

from pipelines.landing.decode import FileFailed

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"')
_RANGE = re.compile(rb"([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})$")
# a cell that is not self-closing holds (or may hold) a value; calamine skips the others
_CELL = re.compile(rb'<(?:\w+:)?c\s(?:[^>]*?\s)?r="([A-Z]{1,3})(\d{1,7})"[^>]*(?<!/)>')
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d{1,7})"')
_CELL_NO_REF = re.compile(rb"<(?:\w+:)?c(?:\s(?![^>]*\br=)[^>]*)?(?<!/)>")


@dataclass(frozen=True)
class Limits:
    """Bounds per file; the defaults fit a year of a city's exports with room to spare."""

    max_file_bytes: int = 512 << 20
    max_sheet_cells: int = 20_000_000  # declared or real extent of one worksheet
    max_uncompressed_bytes: int = 1 << 30  # all members of an xlsx together
    max_compression_ratio: int = 200  # per member above 1 MiB (zip bombs)
    max_seconds: float = 600.0  # reading and typing one file
    max_field_chars: int = 32_768  # a longer cell quarantines its row
    settle_seconds: float = 10.0  # a file younger than this is watched first


class Deadline:
    """Raises FileFailed when one file has taken longer than its limit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise FileFailed(
                f"took longer than {self.seconds:g} s to read: set aside "
                "(WAREHOUSE_MAX_FILE_SECONDS)"
            )


def column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _cells(rows: int, cols: int) -> int:
    return max(rows, 0) * max(cols, 0)


def _fmt(n: int) -> str:
    return f"{n:,}"


def sheet_extent(xml: bytes) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column), 1-based, of the cells holding a value;
    None for an empty sheet. Cells without a reference are placed the way calamine places
    them (after the previous cell of their row); counted conservatively."""
    refs = _CELL.findall(xml)  # distinct letters and numbers first: a sheet repeats them
    cols = [column_number(letters) for letters in {letters for letters, _ in refs}]
    rows = [int(number) for number in {number for _, number in refs}]
    if _CELL_NO_REF.search(xml):
        # positional cells: bounded by the row numbers and by the number of cells in the sheet
        numbers = [
            int(n.group(1)) for r in _ROW.finditer(xml) if (n := _ROW_NUMBER.search(r.group(1)))
        ]
        rows.append(max(numbers, default=0) or len(_ROW.findall(xml)))
        cols.append(min(16_384, len(_CELL_NO_REF.findall(xml)) + len(cols)))
        rows.append(1)
        cols.append(1)
    if not rows:
        return None
    return min(rows), max(rows), min(cols), max(cols)


def check_xlsx(data: bytes, limits: Limits) -> None:
    """Raise FileFailed when the workbook would cost more than the limits (or is no zip)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileFailed(f"not a readable xlsx workbook: {exc}") from exc
    if len(members) > 10_000:
        raise FileFailed(f"xlsx with {len(members):,} zip members: set aside as hostile")
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise FileFailed(
            f"xlsx expands to {_fmt(total)} bytes, more than the limit "
            f"{_fmt(limits.max_uncompressed_bytes)} (WAREHOUSE_MAX_XLSX_MB)"
        )
    for m in members:
        ratio = m.file_size // max(m.compress_size, 1)
        if m.file_size > 1 << 20 and ratio > limits.max_compression_ratio:
            raise FileFailed(
                f"xlsx member {m.filename} expands {ratio}-fold "
                f"({_fmt(m.file_size)} bytes): set aside as a zip bomb"
            )
    for m in members:
        name = m.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        try:
            xml = archive.read(m)
        except Exception as exc:  # CRC errors, truncated members, unsupported compression
            raise FileFailed(f"not a readable xlsx workbook: {name}: {exc}") from exc
        sheet = name.rsplit("/", 1)[-1]
        found = _DIMENSION.search(xml[:4096])
        span = _RANGE.match(found.group(1)) if found else None
        if span:
            c1, r1, c2, r2 = span.groups()
            declared = _cells(int(r2) - int(r1) + 1, column_number(c2) - column_number(c1) + 1)
            if declared > limits.max_sheet_cells:
                raise FileFailed(
                    f"worksheet {sheet} declares the range {found.group(1).decode()} "
                    f"({_fmt(declared)} cells), more than the limit "
                    f"{_fmt(limits.max_sheet_cells)} (WAREHOUSE_MAX_SHEET_CELLS)"
                )
        extent = sheet_extent(xml)
        if extent:
            r1, r2, c1, c2 = extent
            real = _cells(r2 - r1 + 1, c2 - c1 + 1)
            if real > limits.max_sheet_cells:
                raise FileFailed(
                    f"worksheet {sheet} has cells from row {r1} to {r2} and column {c1} to "
                    f"{c2} ({_fmt(real)} cells), more than the limit "
                    f"{_fmt(limits.max_sheet_cells)} (WAREHOUSE_MAX_SHEET_CELLS)"
                )
