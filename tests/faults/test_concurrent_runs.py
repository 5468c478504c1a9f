"""Fault: a refresh is started while another one runs.

The second `warehouse run` waits for the first and says so ("another refresh is running since
…"), then runs; with `--no-wait` it exits at once with that message and exit code 75
(EX_TEMPFAIL), before it touches the Dagster instance or the database. Before the fix, the lock
was only taken inside the Dagster resource: the waiting run printed a Dagster debug line, and
there was no way to refuse instead of waiting.
"""

from __future__ import annotations

import shutil
import time

from tests.faults.conftest import (
    env_for,
    finish,
    no_traceback,
    run,
    start,
    wait_for,
    writer_lock_held,
)


def test_a_second_run_waits_and_a_no_wait_run_refuses(tmp_path, small_corpus):
    raw = tmp_path / "raw"
    shutil.copytree(small_corpus, raw)
    home = tmp_path / "home"
    env = env_for(raw, home)

    first = start(["run"], env)
    try:
        wait_for(lambda: writer_lock_held(home), 120, "the first run to take the writer lock")

        began = time.monotonic()
        code, out, err = run(["run", "--no-wait"], env, timeout=120)
        assert code == 75, (code, out, err)
        assert "another refresh is running since" in out + err, out + err
        assert time.monotonic() - began < 30
        no_traceback(out, err)

        second = start(["run"], env)
        code_1, out_1, err_1 = finish(first)
        code_2, out_2, err_2 = finish(second)
    finally:
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    assert code_1 == 0, out_1 + err_1
    assert code_2 == 0, out_2 + err_2
    assert "another refresh is running since" in out_2 + err_2, out_2 + err_2
    assert "waiting" in out_2 + err_2
    no_traceback(out_1, err_1, out_2, err_2)
