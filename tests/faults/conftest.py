"""Helpers for the fault tests.

Landing faults fork a child that lands (a snapshot of what landed is compared across kills).
Environment faults (runs racing on a fresh home, a held writer lock, a full disk) drive real
`warehouse` processes on a temporary home the way an operator would, and assert what an operator
sees: an exit code, a clear message on the terminal, and never a Python traceback. Slow ones carry
the `slow` marker (`make test-slow`).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_corpus
from pipelines.landing import ensure_schema, land_record_types
from pipelines.landing.limits import Limits
from pipelines.landing.prefetch import WORKERS_MIN_BYTES

REPO = Path(__file__).resolve().parents[2]
RECORD_TYPES = ("inspections", "disputes", "traffic")


def land_forked(
    db: Path,
    raw: Path,
    threads: int = 1,
    fault: str | None = None,
    limits: Limits | None = None,
    workers_min_bytes: int = WORKERS_MIN_BYTES,
) -> int:
    """Land in a forked child (no interpreter start-up: a sweep forks dozens of them); returns
    its exit code, or minus the signal that killed it (-9: the fault's SIGKILL)."""
    pid = os.fork()
    if pid == 0:  # the child: land, then leave without running the parent's clean-up
        code = 1
        try:
            os.environ.pop("WAREHOUSE_FAULT_AT", None)
            if fault:
                os.environ["WAREHOUSE_FAULT_AT"] = fault
            with duckdb.connect(str(db)) as conn:
                ensure_schema(conn)
                land_record_types(
                    conn,
                    raw,
                    RECORD_TYPES,
                    "run",
                    threads=threads,
                    limits=limits or Limits(settle_seconds=0),
                    workers_min_bytes=workers_min_bytes,
                )
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def land_in_child(
    db: Path, raw: Path, threads: int = 1, fault: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_FAULT_AT"}
    if fault:
        env["WAREHOUSE_FAULT_AT"] = fault
    return subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("land_once.py")),
            str(db),
            str(raw),
            str(threads),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ledger(db: Path) -> dict[str, dict]:
    """path -> its latest ledger row."""
    with duckdb.connect(str(db), read_only=True) as conn:
        cur = conn.execute("SELECT * FROM ops.file_ledger ORDER BY current_since")
        names = [d[0] for d in cur.description]
        return {r[1]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def landed_state(db: Path) -> dict[str, list]:
    """Everything landing decided, without the clocks and run ids of the run that decided it:
    ledger rows, landed rows and quarantined rows."""
    with duckdb.connect(str(db), read_only=True) as conn:
        state = {
            "ledger": conn.execute(
                "SELECT path, sha256, status, rows_read, rows_landed, rows_quarantined, "
                "lines_skipped, error_message, superseded_by, coalesce(retry, false), "
                "json_extract_string(detail, '$.duplicate_of') FROM ops.file_ledger "
                "ORDER BY ALL"
            ).fetchall()
        }
        for record_type, key in (
            ("inspections", "inspection_id"),
            ("disputes", "dispute_id"),
            ("traffic", "ticket_id"),
        ):
            state[record_type] = conn.execute(
                f"SELECT _source_path, _file_sha256, _sheet, _line, {key}, count(*) "
                f"FROM landing.{record_type} GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        state["quarantine"] = conn.execute(
            "SELECT stage, source_path, file_sha256, sheet, line_number, reason_code, "
            "count(*) FROM ops.quarantine GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    return state


WAREHOUSE = Path(sys.executable).with_name("warehouse")
TEST_PII_KEY = "faults-test-key"


def env_for(raw: Path, home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "WAREHOUSE_RAW_DIR": str(raw),
        "WAREHOUSE_HOME": str(home),
        "WAREHOUSE_PII_KEY": TEST_PII_KEY,
        **extra,
    }


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(WAREHOUSE), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str, str]:
    return finish(start(args, env), timeout)


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text[-3000:]


def writer_lock_held(home: Path) -> bool:
    """Whether some process holds the writer lock (probed without taking it for long)."""
    path = home / ".writer.lock"
    if not path.exists():
        return False
    with open(path) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """A small generated corpus with its truth (3 stations, 3 days)."""
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    generate_corpus(raw, stations=3, days=3, seed=5)
    return raw
