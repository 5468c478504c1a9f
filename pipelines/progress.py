"""What `warehouse run` shows while the job runs: one line per stage, and nothing else.

``captured_output`` sends the process's stdout and stderr (file descriptors 1 and 2: dbt's
output re-emitted by dagster-dbt, Python warnings, anything a library prints) to the run's log
file through a pipe; with ``verbose`` the same bytes are copied to the terminal as well. The
stage lines are written to a duplicate of the original stdout. A log file that cannot be written
(a full disk) never blocks or fails the writers: the pump drops what it cannot store.

``StageProgress`` turns Dagster log records (see ``pipelines.runlog``) into stage lines:

    landing      0/40 files
    landing      40 files in 0.6 s: 32 loaded, 5 failed, 3 duplicate; rows: 188 read, …
    dbt build    42 models and seeds; 225 dbt tests: 225 passed; 3 dbt unit tests: … (12.1 s)
    …
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pipelines.runlog import parse_dbt_tests, parse_progress

# step key -> the stage name shown
STAGES = {
    "land_raw_exports": "landing",
    "dbt_warehouse": "dbt build",
    "ops__quarantine": "quarantine",
    "validate_marts": "checks",
    "published__catalog": "publish",
    "published__bulletins": "bulletins",
}
DBT_PROGRESS_EVERY_S = 10.0
LANDING_PROGRESS_EVERY_S = 5.0


def stage_name(step_key: str | None) -> str:
    return STAGES.get(step_key or "", step_key or "run")


def _meta_value(metadata: Any, key: str, default: Any = None) -> Any:
    if not metadata or key not in metadata:
        return default
    value = metadata[key]
    return getattr(value, "value", value)


def _n(value: Any) -> str:
    return f"{int(value or 0):,}"


def first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


@dataclass
class _Stage:
    name: str
    started: float
    materializations: list[tuple[list[str], Any]] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)
    last_progress: float = 0.0
    tests_text: str = ""  # the dbt step's tests, from its last log line


class StageProgress:
    """A runlog listener: prints stage lines to `out` as the run's Dagster events arrive."""

    def __init__(self, out: IO[str], clock=time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.stages: dict[str, _Stage] = {}
        self.lines: list[str] = []

    def say(self, stage: str, text: str) -> None:
        line = f"{stage:<12} {text}"
        self.lines.append(line)
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except (OSError, ValueError):  # the terminal went away: the run goes on
            pass

    def __call__(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        if event is None:
            tests = parse_dbt_tests(meta.get("orig_message") or "")
            if tests and step in self.stages:
                self.stages[step].tests_text = tests
                return
            progress = parse_progress(meta.get("orig_message") or "")
            if progress and step:
                self._progress(step, *progress)
            return
        kind = event.event_type_value
        step = event.step_key or step
        if kind == "STEP_START":
            self.stages[step] = _Stage(stage_name(step), self.clock())
        elif kind == "ASSET_MATERIALIZATION" and step in self.stages:
            materialization = event.event_specific_data.materialization
            self.stages[step].materializations.append(
                (materialization.asset_key.path, materialization.metadata)
            )
            self._dbt_tick(step)
        elif kind == "ASSET_CHECK_EVALUATION" and step in self.stages:
            self.stages[step].checks.append(event.event_specific_data)
            self._dbt_tick(step)
        elif kind == "STEP_SUCCESS" and step in self.stages:
            self._finished(self.stages.pop(step))
        elif kind == "STEP_FAILURE":
            stage = self.stages.pop(step, None) or _Stage(stage_name(step), self.clock())
            error = getattr(event.event_specific_data, "error", None)
            message = first_line(error.message if error else "")
            self.say(stage.name, f"FAILED after {self._took(stage)}: {message}")
        elif kind == "STEP_SKIPPED":
            self.say(
                stage_name(step), "skipped (an upstream step failed or a blocking check failed)"
            )

    def _took(self, stage: _Stage) -> str:
        return f"{self.clock() - stage.started:.1f} s"

    def _progress(self, step: str, stage: str, done: int, total: int, unit: str) -> None:
        current = self.stages.get(step)
        if current is not None and done >= total > 0:
            return  # the stage line follows at once
        elapsed = f" ({self._took(current)})" if current is not None and done else ""
        self.say(stage, f"{done:,}/{total:,} {unit}{elapsed}")

    def _dbt_tick(self, step: str) -> None:
        stage = self.stages[step]
        if step != "dbt_warehouse":
            return
        now = self.clock()
        if now - max(stage.started, stage.last_progress) >= DBT_PROGRESS_EVERY_S:
            stage.last_progress = now
            self.say(
                stage.name,
                f"{len(stage.materializations):,} models and seeds done ({self._took(stage)})",
            )

    # -- the line at the end of each stage -------------------------------------------------
    def _finished(self, stage: _Stage) -> None:
        took = self._took(stage)
        by_name = {
            "landing": self._landing,
            "dbt build": self._dbt,
            "quarantine": self._quarantine,
            "checks": self._checks,
            "publish": self._publish,
            "bulletins": self._bulletins,
        }
        describe = by_name.get(stage.name)
        text = describe(stage) if describe else None
        self.say(stage.name, f"{text} ({took})" if text else f"done ({took})")

    @staticmethod
    def _landing(stage: _Stage) -> str:
        totals: dict[str, int] = {}
        ledger = [m for path, m in stage.materializations if path == ["ops", "file_ledger"]]
        sources = ledger or [
            m
            for path, m in stage.materializations
            if path[:1] == ["landing"] and path[-1] != "reference_stations"
        ]
        for metadata in sources:
            for key in (
                "files_loaded",
                "files_failed",
                "files_duplicate",
                "files_unchanged",
                "rows_read",
                "rows_landed",
                "rows_quarantined",
            ):
                totals[key] = totals.get(key, 0) + int(_meta_value(metadata, key, 0) or 0)
        files = sum(
            totals.get(k, 0)
            for k in ("files_loaded", "files_failed", "files_duplicate", "files_unchanged")
        )
        return (
            f"{files:,} files: {_n(totals.get('files_loaded'))} loaded, "
            f"{_n(totals.get('files_failed'))} failed, "
            f"{_n(totals.get('files_duplicate'))} duplicate, "
            f"{_n(totals.get('files_unchanged'))} unchanged; rows: "
            f"{_n(totals.get('rows_read'))} read, {_n(totals.get('rows_landed'))} landed, "
            f"{_n(totals.get('rows_quarantined'))} quarantined"
        )

    @staticmethod
    def _dbt(stage: _Stage) -> str:
        models = f"{len(stage.materializations):,} models and seeds"
        return f"{models}; {stage.tests_text}" if stage.tests_text else models

    @staticmethod
    def _quarantine(stage: _Stage) -> str:
        for _path, metadata in stage.materializations:
            by_reason = _meta_value(metadata, "by_reason", {}) or {}
            stages: dict[str, int] = {}
            for key, n in by_reason.items():
                stages[key.split(".", 1)[0]] = stages.get(key.split(".", 1)[0], 0) + int(n)
            detail = ", ".join(f"{k} {v:,}" for k, v in sorted(stages.items()))
            return f"{_n(_meta_value(metadata, 'total', 0))} rows in ops.quarantine" + (
                f" ({detail})" if detail else ""
            )
        return "done"

    @staticmethod
    def _checks(stage: _Stage) -> str:
        return check_count_text((c.passed, c.severity.value == "ERROR") for c in stage.checks)

    @staticmethod
    def _publish(stage: _Stage) -> str:
        for _path, metadata in stage.materializations:
            version = _meta_value(metadata, "version")
            reason = _meta_value(metadata, "reason", "")
            if _meta_value(metadata, "changed"):
                return f"published version {version}"
            if reason == "pinned":
                return f"pinned by a rollback: BI stays on version {version}"
            return f"nothing new to publish; BI still reads version {version}"
        return "done"

    @staticmethod
    def _bulletins(stage: _Stage) -> str:
        for _path, metadata in stage.materializations:
            written = _meta_value(metadata, "written") or []
            failed = _meta_value(metadata, "failed") or []
            reason = _meta_value(metadata, "reason")
            text = (
                f"{len(written)} {reason or 'written'}"
                if reason in (None, "written", "already written")
                else str(reason)
            )
            return text + (f", {len(failed)} FAILED" if failed else "")
        return "done"


def check_count_text(results) -> str:
    """'68 checks: 62 passed, 6 warnings, 0 blocking failures' from (passed, blocking) pairs:
    counted like the HTML report and the summary (pipelines.validation.report.check_counts)."""
    from pipelines.validation.report import check_counts, counts_text

    return counts_text(check_counts({"passed": p, "blocking": b} for p, b in results))


@contextmanager
def captured_output(
    log_path: Path, *, verbose: bool = False, terminal: IO[str] | None = None
) -> Iterator[IO[str]]:
    """Redirect fds 1 and 2 to `log_path` (and to the terminal too when `verbose`); yield a
    text stream on the original stdout for the stage lines."""
    terminal = terminal or sys.stdout
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    term = os.fdopen(
        os.dup(saved_out), "w", buffering=1, encoding=terminal.encoding or "utf-8", errors="replace"
    )
    read_end, write_end = os.pipe()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    mirror = os.dup(saved_out) if verbose else None
    pump = threading.Thread(
        target=_pump, args=(read_end, log_path, mirror), name="run-log-pump", daemon=True
    )
    pump.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield term
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_err)
        pump.join(timeout=10)  # EOF once every copy of the write end is closed
        os.close(saved_out)
        term.close()


def _pump(read_end: int, log_path: Path, mirror_fd: int | None) -> None:
    try:
        log = open(log_path, "ab")  # noqa: SIM115
    except OSError:
        log = None
    try:
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:
                break
            if not chunk:
                break
            if log is not None:
                try:
                    log.write(chunk)
                    log.flush()
                except OSError:  # full disk: keep draining the pipe so writers never block
                    pass
            if mirror_fd is not None:
                try:
                    os.write(mirror_fd, chunk)
                except OSError:
                    os.close(mirror_fd)
                    mirror_fd = None
    finally:
        os.close(read_end)
        if mirror_fd is not None:
            os.close(mirror_fd)
        if log is not None:
            with suppress(OSError):
                log.close()
