"""Environment faults (issue 14 item 7): real `warehouse` processes on a temporary home.

Each test drives the installed `warehouse` command the way an operator would and asserts the
outcome an operator sees: an exit code, a clear message on the terminal, and never a Python
traceback. Slow ones carry the `slow` marker (`make test-slow`); `make test` runs the others.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.generate import generate_corpus

WAREHOUSE = Path(sys.executable).with_name("warehouse")
TEST_PII_KEY = "faults-test-key"


def env_for(raw: Path, home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_RAW_DIR": str(raw), "WAREHOUSE_HOME": str(home),
            "WAREHOUSE_PII_KEY": TEST_PII_KEY, **extra}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(WAREHOUSE), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


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
