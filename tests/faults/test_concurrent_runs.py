"""Fault: a refresh is started while another one runs.

The second `warehouse run` waits for the first and says so ("another refresh is running since
…"), then runs; with `--no-wait` it exits at once with that message and exit code 75
(EX_TEMPFAIL), before it touches the Dagster instance or the database. Before the fix, the lock
was only taken inside the Dagster resource: the waiting run printed a Dagster debug line (and
its landing then failed on DuckDB's lock, see test_summary_under_next_run), and there was no
way to refuse instead of waiting.

The running refresh is a stand-in that holds exactly what a refresh holds: the flock on
WAREHOUSE_HOME/.writer.lock with its holder written in it (run id, pid, start time; the format
of pipelines/runstate.py) and the working database open for writing. Two real runs showed the
same (first version of this test); the stand-in saves a whole run of test time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

from tests.faults.conftest import env_for, finish, no_traceback, run, start

RUNNING_REFRESH = """
import fcntl, json, os, sys
from datetime import datetime, timezone
import duckdb
home = sys.argv[1]
os.makedirs(home, exist_ok=True)
lock = open(home + "/.writer.lock", "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
lock.truncate(0)
lock.write(json.dumps({"run_id": "running-refresh-1", "pid": os.getpid(),
                       "started_at": "2026-11-20T02:00:00+00:00", "command": "warehouse run"}))
lock.flush()
conn = duckdb.connect(home + "/warehouse.duckdb")
print("holding", flush=True)
sys.stdin.read()  # until the test closes stdin
conn.close()
lock.truncate(0)
fcntl.flock(lock, fcntl.LOCK_UN)
"""


def test_a_second_run_waits_and_a_no_wait_run_refuses(tmp_path, small_corpus):
    raw = tmp_path / "raw"
    shutil.copytree(small_corpus, raw)
    home = tmp_path / "home"
    env = env_for(raw, home)
    running = subprocess.Popen(
        [sys.executable, "-c", RUNNING_REFRESH, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdout.readline().strip() == "holding"
        began = time.monotonic()
        code, out, err = run(["run", "--no-wait"], env, timeout=120)
        assert code == 75, (code, out, err)
        assert "another refresh is running since 2026-11-20" in err, out + err
        assert "run running-refresh-1" in err and f"pid {running.pid}" in err
        assert time.monotonic() - began < 30
        no_traceback(out, err)

        waiting = start(["run"], env)
        said: list[str] = []
        reader = threading.Thread(
            target=lambda: said.append(waiting.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout=60)
        assert said and "another refresh is running since 2026-11-20" in said[0], said
        assert "waiting" in said[0]
        time.sleep(1)
        assert waiting.poll() is None  # still waiting while the refresh runs
    finally:
        running.stdin.close()
        running.wait(timeout=30)
    code, out, err = finish(waiting)
    assert code == 0, said[0] + out + err
    assert "published: version" in out, out
    no_traceback(out, err)
