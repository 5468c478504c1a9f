"""Land one record type: new file versions -> landing.<type> or ops.quarantine, one ledger row
per file version. A file's rows only reach DuckDB in the transaction that writes its ledger
row, so a broken file never half-loads; small files share a transaction (and one typing pass)
for throughput, a file larger than a batch gets a transaction of its own.

Reading: xlsx via calamine (readers.py); CSV without quotes via Arrow (fastcsv.py), other CSV
line by line with the csv module (readers.py). Both CSV readers give identical results."""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb

from pipelines.landing.decode import FileFailed, Fingerprint, detect_encoding, fingerprint
from pipelines.landing.fastcsv import Fallback, read_fast
from pipelines.landing.ledger import (
    LedgerRow,
    insert_ledger,
    insert_ledger_rows,
    known_files,
    record_failure,
)
from pipelines.landing.mapping import Mapping, load_mapping
from pipelines.landing.normalise import create_macros, date_in_name
from pipelines.landing.readers import Batch, SheetInfo, csv_file_lines, scan, xlsx_sheets
from pipelines.landing.stage import Context, Stager, insert_rejects, type_and_land

# Bump when a row rule changes: quarantined rows are re-examined when this or the mapping changes.
RULES_VERSION = "1"
FLUSH_ROWS = 100_000
SHARDS_PER_THREAD = 4  # units of work per landing thread (see _shards)
FAST_CSV = True  # Arrow reader for quote-free CSV (fastcsv.py); tests compare it to the slow one


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def examined_with(mapping: Mapping) -> str:
    return f"mapping {mapping.version}; rules {RULES_VERSION}"


@dataclass
class LandingResult:
    record_type: str
    files_loaded: int = 0
    files_failed: int = 0
    files_duplicate: int = 0
    files_unchanged: int = 0
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    lines_skipped: int = 0
    rows_released: int = 0
    seconds: float = 0.0
    mapping_version: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)

    # the counters: reported as metadata, added up over a record type's shards
    COUNTS = ("files_loaded", "files_failed", "files_duplicate", "files_unchanged", "rows_read",
              "rows_landed", "rows_quarantined", "lines_skipped", "rows_released")

    def add(self, other: LandingResult) -> None:
        """Add the counts and failures of a shard of the same record type."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)

    def as_metadata(self) -> dict:
        meta: dict = {k: int(getattr(self, k)) for k in self.COUNTS}
        meta["mapping_version"] = self.mapping_version
        meta["seconds"] = round(self.seconds, 3)
        meta["failed_files"] = json.dumps(dict(self.failures), ensure_ascii=False)
        return meta


_STEM = re.compile(r"[^_\d]*")


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


def _context(row: LedgerRow, info: SheetInfo, mapping: Mapping, name_date: datetime | None,
             path_station: str | None) -> Context:
    station, source = ((info.station_title, "title") if info.station_title
                       else (path_station, "path"))
    return Context(
        record_type=row.record_type, path=row.path, sha256=row.sha256, sheet=info.sheet,
        exported_at=info.exported_title or name_date or row.first_seen_at,
        first_seen_at=row.first_seen_at, station=station, station_source=source,
        mapping_version=mapping.version, run_id=row.run_id)


def read_file(raw_dir: Path, row: LedgerRow, mapping: Mapping, fp: Fingerprint,
              fast: bool = True) -> Iterator[tuple[Batch, Context]]:
    """Yield chunks of data rows with their context; at the end fill the ledger fields of
    `row`. Raises FileFailed when the file as a whole cannot be landed."""
    path = raw_dir / row.path
    if fp.is_zip:
        row.encoding, pad_short = "xlsx", True
        sources = xlsx_sheets(path)  # lazy: a damaged workbook raises inside the loop below
    else:
        row.encoding, pad_short = detect_encoding(path, fp), False
        sources = iter([(None, csv_file_lines(path, row.encoding))])
        fast = fast and FAST_CSV and not fp.has_quote
    name_date = date_in_name(PurePosixPath(row.path).name)
    path_station = station_from_path(row.path)
    sheets: list[dict] = []
    loaded: list[SheetInfo] = []
    try:
        for sheet, lines in sources:
            info = SheetInfo(sheet)
            chunks = (read_fast(path, row.encoding, row.record_type, mapping, info)
                      if fast and not fp.is_zip else
                      scan(row.record_type, mapping, lines, info, pad_short))
            for chunk in chunks:
                yield chunk, _context(row, info, mapping, name_date, path_station)
            detail = {"sheet": sheet, "rows_read": info.rows_read,
                      "lines_skipped": info.lines_skipped}
            if info.segments:
                ctx = _context(row, info, mapping, name_date, path_station)
                loaded.append(info)
                row.rows_read += info.rows_read
                row.lines_skipped += info.lines_skipped
                row.exported_at = row.exported_at or ctx.exported_at
                detail.update(status="loaded", segments=[
                    {"header_line": s.header_line, "headers": s.headers,
                     "exported_at": ctx.exported_at.isoformat(sep=" "), "station": ctx.station,
                     "station_source": ctx.station_source} for s in info.segments])
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
    row.detail = {"sheets": sheets, "examined_with": examined_with(mapping)}


class _Lander:
    """Groups small files into shared transactions; isolates big and failing files."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, raw_dir: Path, record_type: str,
                 mapping: Mapping, result: LandingResult):
        self.conn, self.raw_dir, self.mapping, self.result = conn, raw_dir, mapping, result
        self.record_type = record_type
        self.done = Stager(record_type)
        self.done_rows: list[LedgerRow] = []

    def _land(self, stager: Stager) -> None:
        rejects = type_and_land(self.conn, stager)
        insert_rejects(self.conn, rejects, utcnow())
        staged = Counter()
        for item in stager.items:
            staged[id(item.owner)] += len(item.chunk)
        rejected = Counter(id(r.owner) for r in rejects)
        for row in {id(i.owner): i.owner for i in stager.items}.values():
            row.rows_landed += staged[id(row)] - rejected[id(row)]
            row.rows_quarantined += rejected[id(row)]

    def _commit_rows(self, rows: list[LedgerRow]) -> None:
        now = utcnow()
        for row in rows:
            row.loaded_at = now
        insert_ledger_rows(self.conn, rows)
        self.conn.execute("COMMIT")
        for row in rows:
            self._count(row)

    def _count(self, row: LedgerRow) -> None:
        self.result.files_loaded += 1
        self.result.rows_read += row.rows_read
        self.result.rows_landed += row.rows_landed
        self.result.rows_quarantined += row.rows_quarantined
        self.result.lines_skipped += row.lines_skipped

    def flush_done(self) -> None:
        if not self.done_rows:
            return
        stager, rows = self.done, self.done_rows
        self.done, self.done_rows = Stager(self.record_type), []
        try:
            self.conn.execute("BEGIN TRANSACTION")
            self._land(stager)
            self._commit_rows(rows)
        except Exception:
            _rollback(self.conn)
            for row in rows:  # isolate the culprit: land the group again file by file
                row.rows_landed = row.rows_quarantined = 0
                single = Stager(self.record_type)
                for item in stager.items:
                    if item.owner is row:
                        single.add(item.chunk, item.ctx, row)
                try:
                    self.conn.execute("BEGIN TRANSACTION")
                    self._land(single)
                    self._commit_rows([row])
                except Exception as exc:
                    _rollback(self.conn)
                    self.fail(row, f"{type(exc).__name__}: {exc}")

    def fail(self, row: LedgerRow, message: str) -> None:
        fresh = LedgerRow(path=row.path, sha256=row.sha256, size_bytes=row.size_bytes,
                          mtime=row.mtime, record_type=row.record_type,
                          first_seen_at=row.first_seen_at, run_id=row.run_id,
                          encoding=row.encoding, mapping_version=self.mapping.version)
        record_failure(self.conn, fresh, message)
        self.result.files_failed += 1
        self.result.failures.append((row.path, message))

    def land(self, row: LedgerRow, fp: Fingerprint, fast: bool = True) -> None:
        current = Stager(self.record_type)
        own_transaction = False
        try:
            for chunk, ctx in read_file(self.raw_dir, row, self.mapping, fp, fast):
                current.add(chunk, ctx, row)
                if self.done.rows + current.rows < FLUSH_ROWS:
                    continue
                self.flush_done()
                if current.rows >= FLUSH_ROWS:  # a big file: stream it in its own transaction
                    if not own_transaction:
                        self.conn.execute("BEGIN TRANSACTION")
                        own_transaction = True
                    self._land(current)
                    current.clear()
            if own_transaction:
                self._land(current)
                self._commit_rows([row])
            else:
                self.done.items.extend(current.items)
                self.done.rows += current.rows
                self.done_rows.append(row)
        except Exception as exc:  # one broken file never stops the others
            if own_transaction:
                _rollback(self.conn)
            if isinstance(exc, Fallback):  # nothing of the file is stored yet: read it again
                for name in ("rows_read", "rows_landed", "rows_quarantined", "lines_skipped"):
                    setattr(row, name, 0)
                row.exported_at = None
                self.land(row, fp, fast=False)
                return
            self.fail(row, str(exc) if isinstance(exc, FileFailed)
                      else f"{type(exc).__name__}: {exc}")


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        conn.execute("ROLLBACK")


def land_record_type(conn: duckdb.DuckDBPyConnection, raw_dir: Path, record_type: str,
                     run_id: str) -> LandingResult:
    """Land every new or changed file under raw/<record_type>/. Never raises for a bad file."""
    return land_record_types(conn, raw_dir, (record_type,), run_id)[record_type]


def land_record_types(conn: duckdb.DuckDBPyConnection, raw_dir: Path,
                      record_types: tuple[str, ...], run_id: str,
                      threads: int = 1, progress: Callable[[int, int], None] | None = None
                      ) -> dict[str, LandingResult]:
    """Land every record type; never raises for a bad file.

    Re-examining quarantine and deciding what each file is (new, unchanged, a duplicate of a
    file seen before, in any folder) happen first, in order, on `conn`. With threads > 1 the
    files then land in shards (runs of consecutive files of one type, see _shards), `threads`
    at a time, each on its own cursor (its own transactions; they only append to the landing,
    ledger and quarantine tables, which never conflicts in DuckDB): one shard's Python reading
    overlaps another's DuckDB typing and commits, and the biggest type uses every thread.
    `progress(files done, files to do)` is called once planned and after each file (from the
    landing threads: it must be thread-safe)."""
    from pipelines.landing.reexamine import reexamine

    raw_dir = Path(raw_dir)
    mapping = load_mapping()
    create_macros(conn, mapping)
    results = {}
    for record_type in record_types:
        started = time.monotonic()
        result = LandingResult(record_type, mapping_version=mapping.version)
        result.rows_released = reexamine(conn, record_type, mapping, run_id)
        result.seconds = time.monotonic() - started
        results[record_type] = result
    plans = _plan(conn, raw_dir, record_types, run_id)
    total, counter = sum(len(p) for p in plans.values()), itertools.count(1)
    tick = (lambda: progress(next(counter), total)) if progress else (lambda: None)
    if progress:
        progress(0, total)

    if threads <= 1 or sum(s.kind == "land" for p in plans.values() for s in p) < 2:
        for record_type in record_types:
            _land_planned(conn, raw_dir, mapping, plans[record_type], results[record_type], tick)
        return results

    units = _shards(plans, threads)
    done: dict[int, tuple[LandingResult, float, float]] = {}

    def work(index: int) -> None:
        record_type, steps = units[index]
        result = LandingResult(record_type)
        started = time.monotonic()
        with conn.cursor() as cursor:
            create_macros(cursor, mapping)  # temporary macros belong to one connection
            _land_planned(cursor, raw_dir, mapping, steps, result, tick)
        done[index] = (result, started, time.monotonic())

    # biggest first, so the longest unit does not start last
    order = sorted(range(len(units)), key=lambda i: -_land_bytes(units[i][1]))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="landing") as pool:
        for future in [pool.submit(work, i) for i in order]:
            future.result()  # re-raises what is not a file's own failure
    for record_type in record_types:  # shards in plan order: failures keep the file order
        mine = [done[i] for i, (rt, _) in enumerate(units) if rt == record_type]
        for shard, _, _ in mine:
            results[record_type].add(shard)
        if mine:
            results[record_type].seconds += (max(end for _, _, end in mine)
                                             - min(start for _, start, _ in mine))
    return results


def _land_bytes(steps: list[_Step]) -> int:
    return sum(s.row.size_bytes for s in steps if s.kind == "land")


def _shards(plans: dict[str, list[_Step]], threads: int) -> list[tuple[str, list[_Step]]]:
    """Each record type's plan cut into runs of consecutive files, each about a
    (threads x SHARDS_PER_THREAD)-th of all the bytes to land: traffic is 90 % of a city's
    bytes, and landed as one unit it kept one thread busy long after the other had finished
    the small types."""
    target = max(1, _land_bytes([s for p in plans.values() for s in p])
                 // (threads * SHARDS_PER_THREAD))
    units: list[tuple[str, list[_Step]]] = []
    for record_type, steps in plans.items():
        current: list[_Step] = []
        size = 0
        for step in steps:
            current.append(step)
            size += _land_bytes([step])
            if size >= target:
                units.append((record_type, current))
                current, size = [], 0
        if current:
            units.append((record_type, current))
    return units


@dataclass
class _Step:
    """What to do with one file, decided before any file lands."""
    kind: str                     # land | duplicate | unchanged | unreadable
    rel: str
    row: LedgerRow | None = None
    fp: Fingerprint | None = None
    message: str = ""


def _plan(conn: duckdb.DuckDBPyConnection, raw_dir: Path, record_types: tuple[str, ...],
          run_id: str) -> dict[str, list[_Step]]:
    seen_pairs, seen_shas = known_files(conn)
    plans: dict[str, list[_Step]] = {}
    for record_type in record_types:
        steps = plans[record_type] = []
        root = raw_dir / record_type
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")) \
            if root.is_dir() else []
        for path in files:
            rel = path.relative_to(raw_dir).as_posix()
            try:
                fp = fingerprint(path)
                mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
            except OSError as exc:
                steps.append(_Step("unreadable", rel, message=f"cannot read: {exc}"))
                continue
            if (rel, fp.sha256) in seen_pairs:
                steps.append(_Step("unchanged", rel))
                continue
            row = LedgerRow(path=rel, sha256=fp.sha256, size_bytes=fp.size, mtime=mtime,
                            record_type=record_type, first_seen_at=utcnow(), run_id=run_id)
            original = seen_shas.setdefault(fp.sha256, rel)
            seen_pairs.add((rel, fp.sha256))
            if original != rel:
                row.status, row.loaded_at = "duplicate", row.first_seen_at
                row.detail = {"note": "byte-identical to a file already in the ledger",
                              "duplicate_of": original}
                steps.append(_Step("duplicate", rel, row))
                continue
            steps.append(_Step("land", rel, row, fp))
    return plans


def _land_planned(conn: duckdb.DuckDBPyConnection, raw_dir: Path, mapping: Mapping,
                  steps: list[_Step], result: LandingResult,
                  tick: Callable[[], None] = lambda: None) -> None:
    started = time.monotonic()
    lander = _Lander(conn, raw_dir, result.record_type, mapping, result)
    for step in steps:
        if step.kind == "unreadable":
            result.files_failed += 1
            result.failures.append((step.rel, step.message))
        elif step.kind == "unchanged":
            result.files_unchanged += 1
        elif step.kind == "duplicate":
            insert_ledger(conn, step.row)
            result.files_duplicate += 1
        else:
            lander.land(step.row, step.fp)
        tick()
    lander.flush_done()
    result.seconds += time.monotonic() - started
