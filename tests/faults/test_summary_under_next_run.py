"""Fault: a run finishes while the next refresh is already waiting for the writer lock.

Before the fix the first run released the lock when its Dagster job ended and only then opened
the database read-only for its summary; the next refresh, waiting for the lock, took it and
opened the database for writing in between, so the summary failed on DuckDB's file lock (exit 1
and a traceback after a successful publish). Two `warehouse run` started together showed it
often but not every time (it is a race), so the next refresh here is a small process that does
exactly what a waiting refresh does, without the start-up time of a real one: it blocks on the
writer lock, and the moment it has it, opens the database for writing and keeps it a while.
Now the CLI holds the writer lock from before the job until its summary is printed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.faults.conftest import env_for, finish, no_traceback, start, wait_for, writer_lock_held

NEXT_REFRESH = """
import fcntl, sys, time
import duckdb
home = sys.argv[1]
with open(home + "/.writer.lock", "a+") as lock:
    print("waiting", flush=True)
    fcntl.flock(lock, fcntl.LOCK_EX)
    conn = duckdb.connect(home + "/warehouse.duckdb")
    conn.execute("CREATE TABLE IF NOT EXISTS main.next_refresh_was_here AS SELECT 1 AS x")
    print("holding the database", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.close()
"""


@pytest.mark.slow  # a whole run beside a waiting one: `make test-slow`
def test_the_summary_is_printed_although_the_next_refresh_is_waiting(tmp_path, small_corpus):
    raw = tmp_path / "raw"
    shutil.copytree(small_corpus, raw)
    home = tmp_path / "home"
    env = env_for(raw, home)
    first = start(["run"], env)
    wait_for(lambda: writer_lock_held(home), 120, "the run to take the writer lock")
    following = subprocess.Popen(
        [sys.executable, "-c", NEXT_REFRESH, str(home), "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code, out, err = finish(first)
    finally:
        following_out, following_err = following.communicate(timeout=120)
    no_traceback(out, err)
    assert code == 0, out[-3000:] + err[-3000:]
    assert "published: version" in out, out[-3000:]
    assert "holding the database" in following_out, following_err  # it did get its turn
