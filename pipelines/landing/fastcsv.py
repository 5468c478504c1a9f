"""CSV fast path: Arrow's C++ reader parses the data rows; Python only looks at the few lines
that need it (totals, footers, repeated headers, rows with a different number of cells).

Used for CSV files without any double quote (so one record = one physical line, and line
numbers follow from positions). Results equal the line-by-line reader's (tests compare both);
a second, different header inside the file raises Fallback and the file is read line by line.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.landing.limits import Deadline
from pipelines.landing.mapping import HeaderMapping
from pipelines.landing.readers import (
    HINT_WINDOW,
    MAX_FIELD_CHARS,
    SPACES,
    RowBatch,
    Scanner,
    SheetInfo,
    csv_data_lines,
)

BLOCK_SIZE = 4 << 20


class Fallback(Exception):
    """The file needs the line-by-line reader."""


def _header(scanner: Scanner, data: bytes, encoding: str) -> int:
    """Feed lines up to the header; returns the number of cells of the header line."""
    for line, cells in csv_data_lines(data, encoding):
        scanner.feed(line, cells)
        if scanner.layout is not None:
            return len(cells)
        if scanner.done:
            break
    return 0


def read_fast(
    data: bytes,
    encoding: str,
    record_type: str,
    mapping: HeaderMapping,
    info: SheetInfo,
    max_field: int = MAX_FIELD_CHARS,
    deadline: Deadline | None = None,
) -> Iterator[RowBatch]:
    try:
        yield from _read_fast(data, encoding, record_type, mapping, info, max_field, deadline)
    except pa.ArrowInvalid as exc:
        # e.g. nothing after the header: the line-by-line reader has the exact answer
        raise Fallback(str(exc)) from exc


def _read_fast(
    data: bytes,
    encoding: str,
    record_type: str,
    mapping: HeaderMapping,
    info: SheetInfo,
    max_field: int,
    deadline: Deadline | None,
) -> Iterator[RowBatch]:
    scanner = Scanner(record_type, mapping, info, pad_short=False, max_field=max_field)
    ncols = _header(scanner, data, encoding)
    if scanner.layout is None:
        scanner.finish()
        return
    layout = scanner.layout
    width, key = layout.width, layout.fields[scanner.key]
    names = [f"c{i}" for i in range(ncols)]
    ragged: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        ragged.append((row.number, row.text))
        return "skip"

    reader = pacsv.open_csv(
        pa.BufferReader(data),
        # the BOM sits in a skipped line: UTF-8 with or without BOM parse alike
        read_options=pacsv.ReadOptions(
            skip_rows=layout.header_line,
            column_names=names,
            use_threads=False,
            block_size=BLOCK_SIZE,
            encoding="utf8" if encoding.startswith("utf-8") else encoding,
        ),
        parse_options=pacsv.ParseOptions(
            quote_char=False, ignore_empty_lines=False, invalid_row_handler=on_invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    next_line = layout.header_line + 1
    for record_batch in reader:
        if deadline is not None:
            deadline.check()
        cols = record_batch.columns
        n = record_batch.num_rows
        lines = np.arange(next_line, next_line + n + len(ragged), dtype=np.int64)
        if ragged:
            lines = np.setdiff1d(lines, np.array([r[0] for r in ragged]), assume_unique=True)
        if len(lines) != n:  # ragged lines not where expected: never guess line numbers
            raise Fallback
        next_line += n + len(ragged)
        keep = _classify(scanner, cols, lines, width, key)
        kept = record_batch.filter(pa.array(keep)) if not keep.all() else record_batch
        batch = RowBatch(layout, lines=lines[keep], columns=kept.columns[:width])
        info.rows_read += len(batch)
        if len(batch):
            yield batch
        yield from _ragged(scanner, ragged)
    yield from _ragged(scanner, ragged)  # a last block may hold nothing but ragged lines
    last = scanner.finish()
    if last is not None:
        yield last


def _ragged(scanner: Scanner, ragged: list[tuple[int, str]]) -> Iterator[RowBatch]:
    """Lines with another number of cells: the line-by-line rules decide (no quotes here)."""
    layout = scanner.layout
    for line, text in ragged:
        full = scanner.feed(line, text.split(","))
        if scanner.layout is not layout:
            raise Fallback
        if full is not None:
            yield full
    ragged.clear()


def _classify(scanner: Scanner, cols: list, lines: np.ndarray, width: int, key: int) -> np.ndarray:
    """Mask of data rows; blank/totals/footer/repeated-header lines are counted as skipped."""
    n = len(lines)
    joined = pc.binary_join_element_wise(*cols, "") if len(cols) > 1 else cols[0]
    blank = pc.equal(pc.utf8_trim(joined, SPACES), "").to_numpy(zero_copy_only=False)
    hint = pc.match_substring_regex(
        pc.utf8_slice_codeunits(joined, 0, HINT_WINDOW), scanner.hint.pattern
    ).to_numpy(zero_copy_only=False)
    key_col = cols[key]
    maybe_header = pc.and_(
        pc.not_equal(key_col, ""), pc.invert(pc.match_substring_regex(key_col, r"\d"))
    )
    maybe_header = maybe_header.to_numpy(zero_copy_only=False)
    # cells beyond the header's last named column must be empty, else the row is malformed;
    # a cell longer than the field limit sets its row aside (the scanner cuts and marks it)
    overflow = np.zeros(n, dtype=bool)
    for extra in cols[width:]:
        overflow |= pc.not_equal(pc.utf8_trim(extra, SPACES), "").to_numpy(zero_copy_only=False)
    # bytes >= characters, and no cell is longer than its whole line: the columns are looked
    # at only when some line is longer than the limit
    if (pc.max(pc.binary_length(joined)).as_py() or 0) > scanner.max_field:
        for col in cols:
            overflow |= pc.greater(pc.utf8_length(col), scanner.max_field).to_numpy(
                zero_copy_only=False
            )
    keep = ~blank
    scanner.info.lines_skipped += int(blank.sum())
    for i in np.flatnonzero(~blank & (hint | maybe_header | overflow)):
        cells = [c[i].as_py() for c in cols]
        if hint[i] and scanner.is_skipped(cells):
            keep[i] = False
            scanner.info.lines_skipped += 1
            continue
        if maybe_header[i]:
            new = scanner.header_again(int(lines[i]), cells)
            if new is not None:
                if new.headers != scanner.layout.headers:
                    raise Fallback
                keep[i] = False
                scanner.info.lines_skipped += 1
                continue
        if overflow[i]:
            keep[i] = False
            scanner.add_row(int(lines[i]), cells)  # malformed: goes with the scanner's batch
    return keep
