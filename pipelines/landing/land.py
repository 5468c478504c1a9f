"""Land the drop zone: new file versions -> landing.<type> or ops.quarantine, one ledger row
per file version (plan.py decides what each file is; ledger.py owns the transitions).

A file's rows only reach DuckDB in the transaction that writes its ledger row and retires the
path's previous version, so a crash at any instant leaves the ledger and the landing tables
agreeing, and the next run lands every row exactly once (tests/faults/). Small files share a
transaction (and one typing pass) for throughput; a file larger than a batch gets its own.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.faults import checkpoint
from pipelines.landing.decode import FileFailed
from pipelines.landing.drop_zone import name_note
from pipelines.landing.fastcsv import Fallback
from pipelines.landing.ledger import (
    LedgerRow,
    insert_ledger_rows,
    ledger_state,
    make_current,
    reactivate,
    record_failure,
    touch,
)
from pipelines.landing.limits import Limits
from pipelines.landing.mapping import HeaderMapping, load_mapping
from pipelines.landing.normalise import create_macros
from pipelines.landing.plan import Step, make_plan
from pipelines.landing.prefetch import WORKERS_MIN_BYTES, PassingFailure, Prefetcher, read_step
from pipelines.landing.read import station_from_path
from pipelines.landing.stage import Stager, insert_rejects, type_and_land

# Rows per shared transaction. A commit larger than a few of DuckDB's row groups (122,880 rows)
# writes them to the database file once; smaller ones go through the WAL and are written again
# at the checkpoint: 500,000 landed the city bench's 11 M rows in 61-62 s against 65-66 s at
# 100,000 (two threads; single thread, 1 M traffic rows: 4.3 s against 6.2 s, commits 0.1 s
# against 1.4 s).
FLUSH_ROWS = 500_000
SHARDS_PER_THREAD = 4  # units of work per landing thread (see _shards)
UNSORTED = "unsorted"  # results key for files outside the record-type folders


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class LandingResult:
    record_type: str
    files_loaded: int = 0
    files_failed: int = 0
    files_retry: int = 0  # of files_failed: passing causes, tried again next run
    files_duplicate: int = 0
    files_unchanged: int = 0
    files_reverted: int = 0  # back to bytes the path held before: that version counts again
    files_ignored: int = 0
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    lines_skipped: int = 0
    rows_released: int = 0
    files_read_ahead: int = 0  # of the files read: by a worker process (prefetch.py)
    seconds: float = 0.0
    mapping_version: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)

    # the counters: reported as metadata, added up over a record type's shards
    COUNTS = (
        "files_loaded",
        "files_failed",
        "files_retry",
        "files_duplicate",
        "files_unchanged",
        "files_reverted",
        "files_ignored",
        "rows_read",
        "rows_landed",
        "rows_quarantined",
        "lines_skipped",
        "rows_released",
        "files_read_ahead",
    )

    def add(self, other: LandingResult) -> None:
        """Add the counts and failures of a shard of the same record type."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)

    def failed(self, path: str, message: str, retry: bool) -> None:
        self.files_failed += 1
        self.files_retry += retry
        self.failures.append((path, message))

    def as_metadata(self) -> dict:
        meta: dict = {k: int(getattr(self, k)) for k in self.COUNTS}
        meta["mapping_version"] = self.mapping_version
        meta["seconds"] = round(self.seconds, 3)
        meta["failed_files"] = json.dumps(dict(self.failures), ensure_ascii=False)
        return meta


def _new_row(step: Step, run_id: str, now: datetime) -> LedgerRow:
    entry = step.entry
    row = LedgerRow(
        path=step.rel,
        sha256=step.sha256,
        size_bytes=entry.size,
        mtime=entry.mtime,
        record_type=step.record_type,
        first_seen_at=now,
        run_id=run_id,
        current_since=now,
        retry=step.retry,
    )
    note = name_note(str(entry.fs_path.name))
    if note:
        row.detail["name"] = note
    if step.record_type:  # the station the path names, for failed and empty files too
        row.detail["path_station"] = station_from_path(step.rel)
    return row


def _commit(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("COMMIT")
    checkpoint("landing.commit")


class _Lander:
    """Groups small files into shared transactions; isolates big and failing files."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        record_type: str,
        mapping: HeaderMapping,
        result: LandingResult,
        limits: Limits,
        run_id: str,
        prefetch: Prefetcher | None = None,
    ):
        self.conn, self.mapping, self.result, self.limits = conn, mapping, result, limits
        self.record_type, self.run_id, self.prefetch = record_type, run_id, prefetch
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
        make_current(self.conn, rows)
        _commit(self.conn)
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
                    self.fail(
                        row,
                        f"{type(exc).__name__}: {exc}",
                        retry=isinstance(exc, duckdb.IOException | OSError),
                    )

    def fail(self, row: LedgerRow, message: str, retry: bool = False) -> None:
        fresh = LedgerRow(
            path=row.path,
            sha256=row.sha256,
            size_bytes=row.size_bytes,
            mtime=row.mtime,
            record_type=row.record_type,
            first_seen_at=row.first_seen_at,
            run_id=row.run_id,
            encoding=row.encoding,
            mapping_version=self.mapping.version,
            current_since=row.current_since,
            retry=retry,
            detail={k: v for k, v in row.detail.items() if k in ("name", "path_station")},
        )
        record_failure(self.conn, fresh, message)
        checkpoint("landing.commit")
        self.result.failed(row.path, message, retry)

    def land(self, step: Step, fast: bool = True, row: LedgerRow | None = None) -> None:
        ahead = self.prefetch.take(step) if self.prefetch and fast and row is None else None
        if ahead is not None:  # read by a worker process (prefetch.py)
            row, chunks, failure = ahead
            self.result.files_read_ahead += 1
            source = _replay(chunks, failure)
        else:
            row = row or _new_row(step, self.run_id, utcnow())
            source = read_step(step, row, self.mapping, self.limits, fast)
        current = Stager(self.record_type)
        own_transaction = False
        try:
            for chunk, ctx in source:
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
                fresh = _new_row(step, self.run_id, row.first_seen_at)
                self.land(step, fast=False, row=fresh)
                return
            retry = isinstance(exc, PassingFailure | OSError | duckdb.IOException)
            self.fail(
                row,
                str(exc) if isinstance(exc, FileFailed) else f"{type(exc).__name__}: {exc}",
                retry,
            )


def _replay(chunks: list | None, failure: Exception | None) -> Iterator:
    if failure is not None:
        raise failure
    yield from chunks or ()


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        conn.execute("ROLLBACK")


def land_record_type(
    conn: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    record_type: str,
    run_id: str,
    limits: Limits | None = None,
) -> LandingResult:
    """Land every new or changed file under raw/<record_type>/. Never raises for a bad file."""
    return land_record_types(conn, raw_dir, (record_type,), run_id, limits=limits)[record_type]


def land_record_types(
    conn: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    record_types: tuple[str, ...],
    run_id: str,
    threads: int = 1,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers_min_bytes: int = WORKERS_MIN_BYTES,
) -> dict[str, LandingResult]:
    """Land every record type; never raises for a bad file.

    Re-examining quarantine and deciding what each file is (plan.py) happen first, in order, on
    `conn`; then what needs no reading (reverts, failures, hidden files) is recorded. With
    threads > 1 the files then land in shards (runs of consecutive files of one type, see
    _shards), `threads` at a time, each on its own cursor (its own transactions; they append to
    the landing tables and touch distinct ledger rows, which never conflicts in DuckDB): one
    shard's Python reading overlaps another's DuckDB typing and commits, and the biggest type
    uses every thread. A landing of at least `workers_min_bytes` (a rebuild) is
    landed by one thread instead, the files read ahead by `threads` worker processes
    (prefetch.py): reading is Python work that two threads share badly under the GIL. Files
    whose bytes are also at another path land last (_candidates).
    `progress(files done, files to do)` is called once planned and after each file (from the
    landing threads: it must be thread-safe)."""
    from pipelines.landing.reexamine import reexamine

    raw_dir = Path(raw_dir)
    limits = limits or Limits()
    mapping = load_mapping()
    create_macros(conn, mapping)
    results = {}
    for record_type in record_types:
        started = time.monotonic()
        result = LandingResult(record_type, mapping_version=mapping.version)
        result.rows_released = reexamine(conn, record_type, mapping, run_id)
        result.seconds = time.monotonic() - started
        results[record_type] = result
    plan = make_plan(conn, raw_dir, record_types, limits)
    counter = itertools.count(1)
    tick = (lambda: progress(next(counter), len(plan.steps))) if progress else (lambda: None)
    if progress:
        progress(0, len(plan.steps))
    results[UNSORTED] = LandingResult(UNSORTED, mapping_version=mapping.version)
    _record_unread(conn, plan.steps, results, run_id, tick)
    plans = {rt: [s for s in plan.of("land") if s.record_type == rt] for rt in record_types}

    prefetch: Prefetcher | None = None

    def land_steps(cursor, record_type: str, steps: list[Step], result: LandingResult):
        lander = _Lander(cursor, record_type, mapping, result, limits, run_id, prefetch)
        for step in steps:
            lander.land(step)
            tick()
        lander.flush_done()

    ahead = [s for rt in record_types for s in plans[rt]]
    if threads > 1 and ahead and _land_bytes(ahead) >= workers_min_bytes:
        # a rebuild: `threads` worker processes read the files ahead, one thread lands them
        prefetch = Prefetcher(
            ahead, lambda step: _new_row(step, run_id, utcnow()), mapping, limits, threads
        )
    if prefetch is not None or threads <= 1 or len(ahead) < 2:
        try:
            for record_type in record_types:
                started = time.monotonic()
                land_steps(conn, record_type, plans[record_type], results[record_type])
                results[record_type].seconds += time.monotonic() - started
        finally:
            if prefetch is not None:
                prefetch.close()
    else:
        _land_threaded(conn, plans, mapping, results, threads, land_steps)
    _candidates(conn, plan.of("candidate"), results, run_id, land_steps, tick)
    if not any(getattr(results[UNSORTED], k) for k in LandingResult.COUNTS):
        del results[UNSORTED]
    return results


def _record_unread(
    conn: duckdb.DuckDBPyConnection,
    steps: list[Step],
    results: dict[str, LandingResult],
    run_id: str,
    tick: Callable[[], None],
) -> None:
    """What the plan decided without landing rows: each in its own transaction."""
    now = utcnow()
    for step in steps:
        if step.kind not in ("land", "candidate"):
            tick()
        result = results[step.record_type or UNSORTED]
        if step.kind == "unchanged":
            result.files_unchanged += 1
        elif step.kind == "touch":
            touch(conn, step.known, step.entry.size, step.entry.mtime)
            checkpoint("landing.commit")
            result.files_unchanged += 1
        elif step.kind == "reactivate":
            conn.execute("BEGIN TRANSACTION")
            reactivate(conn, step.known, run_id, now)
            _commit(conn)
            result.files_reverted += 1
        elif step.kind == "known_failure":
            touch(conn, step.known, step.entry.size, step.entry.mtime, now)
            checkpoint("landing.commit")
            result.failed(step.rel, step.message, False)
        elif step.kind == "failed":
            record_failure(conn, _new_row(step, run_id, now), step.message)
            checkpoint("landing.commit")
            result.failed(step.rel, step.message, step.retry)
        elif step.kind == "ignored":
            row = _new_row(step, run_id, now)
            row.status, row.error_message, row.loaded_at = "ignored", step.message, now
            conn.execute("BEGIN TRANSACTION")
            insert_ledger_rows(conn, [row])
            _commit(conn)
            result.files_ignored += 1


def _candidates(
    conn: duckdb.DuckDBPyConnection,
    steps: list[Step],
    results: dict[str, LandingResult],
    run_id: str,
    land_steps,
    tick: Callable[[], None],
) -> None:
    """Files whose bytes are loaded at another path, or were shared with an earlier file of
    this run, decided now that this run's landing is committed: a duplicate of a version
    that counts, or else landed themselves (the original failed, or was replaced)."""
    paths, shas = [s.rel for s in steps], [s.sha256 for s in steps]
    state = ledger_state(conn, paths, shas) if steps else None
    for step in steps:
        result = results[step.record_type]
        original = state.loaded_sha.get(step.sha256)
        if original is None or original.path == step.rel:
            land_steps(conn, step.record_type, [step], result)  # ticks
            state = ledger_state(conn, paths, shas)
            continue
        tick()
        known = state.latest.get(step.rel)
        if (
            known is not None
            and known.status == "duplicate"
            and known.sha256 == step.sha256
            and known.duplicate_of == original.file_version_id
        ):
            if (known.size_bytes, known.mtime) != (step.entry.size, step.entry.mtime):
                touch(conn, known, step.entry.size, step.entry.mtime)
                checkpoint("landing.commit")
            result.files_unchanged += 1  # still a copy of a version that counts
            continue
        row = _new_row(step, run_id, utcnow())
        row.status, row.loaded_at = "duplicate", row.first_seen_at
        row.detail.update(
            note="byte-identical to a file already in the ledger",
            duplicate_of=original.path,
            duplicate_of_id=original.file_version_id,
        )
        conn.execute("BEGIN TRANSACTION")
        insert_ledger_rows(conn, [row])
        make_current(conn, [row])
        _commit(conn)
        result.files_duplicate += 1


def _land_threaded(
    conn,
    plans: dict[str, list[Step]],
    mapping: HeaderMapping,
    results: dict[str, LandingResult],
    threads: int,
    land_steps,
) -> None:
    units = _shards(plans, threads)
    done: dict[int, tuple[LandingResult, float, float]] = {}

    def work(index: int) -> None:
        record_type, steps = units[index]
        result = LandingResult(record_type)
        started = time.monotonic()
        with conn.cursor() as cursor:
            create_macros(cursor, mapping)  # temporary macros belong to one connection
            land_steps(cursor, record_type, steps, result)
        done[index] = (result, started, time.monotonic())

    # biggest first, so the longest unit does not start last
    order = sorted(range(len(units)), key=lambda i: -_land_bytes(units[i][1]))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="landing") as pool:
        for future in [pool.submit(work, i) for i in order]:
            future.result()  # re-raises what is not a file's own failure
    for record_type in plans:  # shards in plan order: failures keep the file order
        mine = [done[i] for i, (rt, _) in enumerate(units) if rt == record_type]
        for shard, _, _ in mine:
            results[record_type].add(shard)
        if mine:
            results[record_type].seconds += max(end for _, _, end in mine) - min(
                start for _, start, _ in mine
            )


def _land_bytes(steps: list[Step]) -> int:
    return sum(s.entry.size or 0 for s in steps)


def _shards(plans: dict[str, list[Step]], threads: int) -> list[tuple[str, list[Step]]]:
    """Each record type's files cut into runs of consecutive files, each about a
    (threads x SHARDS_PER_THREAD)-th of all the bytes to land: traffic is 90 % of a city's
    bytes, and landed as one unit it kept one thread busy long after the other had finished
    the small types."""
    target = max(
        1, _land_bytes([s for p in plans.values() for s in p]) // (threads * SHARDS_PER_THREAD)
    )
    units: list[tuple[str, list[Step]]] = []
    for record_type, steps in plans.items():
        current: list[Step] = []
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
