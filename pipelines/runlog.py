"""Every run's full log in WAREHOUSE_HOME/logs/<run id>.log, and progress for the CLI.

``RunLogFileHandler`` is installed for every run of the instance by ``dagster.yaml``
(``python_logs.dagster_handler_config``): each Dagster log record (events at every level, and
every ``context.log`` line) is appended to the run's log file, without colour codes, whether
the run was started by ``warehouse run``, the UI, the schedule or the sensor. ``warehouse run``
also sends the process's own stdout and stderr there (dbt's output, warnings), see
``pipelines.progress``.

In the same process, listeners (``listening``) receive the records too: that is how
``warehouse run`` prints one line per stage while the job runs.

Stage progress that is not a Dagster event (landing: files done / files to do) is an ordinary
``context.log.info`` line made by ``progress_message`` and recognised by ``parse_progress``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

_LISTENERS: list[Callable[[logging.LogRecord], None]] = []
_LOCK = threading.Lock()
PROGRESS_PREFIX = "progress:"
_PROGRESS = re.compile(r"^progress: (?P<stage>[\w ]+?) (?P<done>\d+)/(?P<total>\d+) (?P<unit>\w+)")


def logs_dir() -> Path | None:
    """WAREHOUSE_HOME/logs: the instance lives in WAREHOUSE_HOME/dagster (DAGSTER_HOME)."""
    dagster_home = os.environ.get("DAGSTER_HOME")
    return Path(dagster_home).parent / "logs" if dagster_home else None


def run_log_path(logs: Path, run_id: str) -> Path:
    return logs / f"{run_id}.log"


def progress_message(stage: str, done: int, total: int, unit: str) -> str:
    return f"{PROGRESS_PREFIX} {stage} {done}/{total} {unit}"


DBT_TESTS_PREFIX = "dbt tests of this build:"


def dbt_tests_message(text: str) -> str:
    """The log line the dbt step ends with: its tests' counts (they are no Dagster events)."""
    return f"{DBT_TESTS_PREFIX} {text}"


def parse_dbt_tests(message: str) -> str | None:
    return (
        message[len(DBT_TESTS_PREFIX) :].strip() if message.startswith(DBT_TESTS_PREFIX) else None
    )


def parse_progress(message: str) -> tuple[str, int, int, str] | None:
    match = _PROGRESS.match(message)
    if not match:
        return None
    return match["stage"], int(match["done"]), int(match["total"]), match["unit"]


def format_record(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
    text = record.getMessage()
    if record.exc_info and record.exc_info[0] is not None:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return f"{stamp} {record.levelname:<7} {text}\n"


class RunLogFileHandler(logging.Handler):
    """Appends each Dagster record to logs/<run id>.log; hands it to in-process listeners.
    Never raises: a log that cannot be written (full disk) must not fail the run."""

    def __init__(self, level: int | str = logging.DEBUG) -> None:
        super().__init__(level)
        self.failed_paths: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        for listener in list(_LISTENERS):
            with contextlib.suppress(Exception):  # a listener never breaks logging
                listener(record)
        meta = getattr(record, "dagster_meta", None) or {}
        run_id = meta.get("run_id")
        folder = logs_dir()
        if not run_id or folder is None:
            return
        path = run_log_path(folder, run_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(format_record(record))
        except OSError:
            self.failed_paths.add(str(path))


@contextmanager
def listening(listener: Callable[[logging.LogRecord], None]) -> Iterator[None]:
    with _LOCK:
        _LISTENERS.append(listener)
    try:
        yield
    finally:
        with _LOCK:
            _LISTENERS.remove(listener)
