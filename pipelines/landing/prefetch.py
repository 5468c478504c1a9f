"""Read the next files in worker processes while the landing thread types and commits.

A rebuild lands some 16,000 files. Reading one (decoding, CSV or xlsx parsing, header
mapping, sorting out totals, footers and malformed lines) is Python and Arrow work on the
file's bytes alone, and under the GIL two landing threads got about 1.2 times what one gets
(docs/scaling.md; two processes read 2.0 times as fast as one). Worker processes read the
files ahead, in plan order, and hand back each file's row batches and ledger fields; the
landing thread (land.py) takes them when it comes to the file. Everything that touches
DuckDB (typing, rules, the ledger, transactions, failure isolation, the commit points the
crash tests kill at) stays in the landing process, in the same order: a file read ahead
lands exactly as one read in process would, and a file's failure is raised where the
in-process read raises it.

Only for a landing worth the workers' start (WORKERS_MIN_BYTES): a night's few megabytes
are read in process. Workers are forked (no second import of the job; they never touch
DuckDB or Dagster) and end when the landing process is gone. A worker that dies (the process
killed, a parser aborting) leaves the files not yet taken to the in-process read.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pipelines.landing.decode import FileFailed, fingerprint
from pipelines.landing.ledger import LedgerRow
from pipelines.landing.limits import Limits
from pipelines.landing.mapping import HeaderMapping
from pipelines.landing.plan import Step
from pipelines.landing.read import read_file

# a landing smaller than this reads in process (a city night is a few MB; a rebuild 1.4 GB);
# WAREHOUSE_LANDING_WORKERS_MIN_BYTES (Settings) overrides it
WORKERS_MIN_BYTES = 64 << 20
# bytes of files read ahead and not yet landed (at least one file, whatever its size)
AHEAD_BYTES = 256 << 20
# files sent to a worker at once: up to TASK_FILES, until TASK_BYTES
TASK_FILES = 64
TASK_BYTES = 4 << 20


class PassingFailure(FileFailed):
    """The file could not be read this time (unreadable, changed while read): retried."""


def file_bytes(step: Step, limits: Limits) -> bytes:
    """The file's bytes, read once; the ledger's sha256 is theirs. A file that changed
    since the plan looked at it is tried again next run."""
    try:
        with open(step.entry.fs_path, "rb") as f:
            data = f.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise PassingFailure(f"cannot read: {exc.strerror}") from exc
    again = step.entry.restat()
    if (again.size, again.mtime_ns) != (step.entry.size, step.entry.mtime_ns) or len(
        data
    ) != step.entry.size:
        raise PassingFailure(
            "changed while being read (still being written?); tried again next run"
        )
    return data


def read_step(
    step: Step, row: LedgerRow, mapping: HeaderMapping, limits: Limits, fast: bool = True
) -> Iterator:
    """The file's (chunk, context) pairs, filling `row` (sha256 first, then the ledger fields
    read_file sets). Raises the file's failure."""
    data = file_bytes(step, limits)
    fp = fingerprint(data)
    if step.sha256 is not None and fp.sha256 != step.sha256:
        raise PassingFailure("changed while being read; tried again next run")
    row.sha256 = fp.sha256
    yield from read_file(data, row, mapping, fp, limits, fast)


# --- in the worker processes -------------------------------------------------------------

_worker_mapping: HeaderMapping | None = None


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:  # the landing process is gone: nobody will take our work
            os._exit(0)
        time.sleep(0.5)


def _start_worker(mapping: HeaderMapping, parent: int) -> None:
    global _worker_mapping
    _worker_mapping = mapping
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _read_ahead(batch: list[tuple[Step, LedgerRow]], limits: Limits) -> list:
    """Per file: (row, chunks, None) or (row, None, the exception), the row as far as it was
    filled."""
    out = []
    for step, row in batch:
        try:
            out.append((row, list(read_step(step, row, _worker_mapping, limits)), None))
        except Exception as exc:  # the landing thread raises it where the in-process read would
            out.append((row, None, exc))
    return out


# --- in the landing process --------------------------------------------------------------


class Prefetcher:
    """Reads `steps` ahead in `workers` processes, in order, each with a ledger row made by
    `new_row`; `take(step)` returns (row, chunks, None) or (row, None, the file's failure) for
    a step read ahead, None for any other (then read it in process). Consecutive small files
    go to a worker together (TASK_BYTES, TASK_FILES): one round trip per file cost as much as
    reading it."""

    def __init__(
        self,
        steps: list[Step],
        new_row: Callable[[Step], LedgerRow],
        mapping: HeaderMapping,
        limits: Limits,
        workers: int,
    ):
        self._queue = deque(steps)
        self._new_row, self._limits = new_row, limits
        self._ahead: dict[int, tuple[Future, int, int]] = {}  # step -> (task, index, bytes)
        self._ahead_bytes = 0
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(mapping, os.getpid()),
        )
        self._fill()

    def _fill(self) -> None:
        while (
            self._pool is not None
            and self._queue
            and (not self._ahead or self._ahead_bytes < AHEAD_BYTES)
        ):
            batch, size = [], 0
            while self._queue and len(batch) < TASK_FILES and (not batch or size < TASK_BYTES):
                step = self._queue.popleft()
                batch.append(step)
                size += step.entry.size or 0
            try:
                future = self._pool.submit(
                    _read_ahead, [(s, self._new_row(s)) for s in batch], self._limits
                )
            except BrokenProcessPool:
                self._broken()
                return
            for index, step in enumerate(batch):
                self._ahead[id(step)] = (future, index, step.entry.size or 0)
            self._ahead_bytes += size

    def _broken(self) -> None:
        self.close()
        self._ahead.clear()
        self._queue.clear()

    def take(self, step: Step) -> tuple[LedgerRow, list | None, Exception | None] | None:
        got = self._ahead.pop(id(step), None)
        if got is None:
            return None
        future, index, size = got
        self._ahead_bytes -= size
        try:
            result = future.result()[index]
        except BrokenProcessPool:
            self._broken()
            return None
        except Exception:  # e.g. a failure that would not pickle: read this file in process
            return None
        self._fill()
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
