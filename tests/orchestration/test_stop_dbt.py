"""A dbt the run no longer reads is ended, even one blocked on a full stdout pipe.

The fault this guards: Dagster's event writes fail (a full disk), the dbt step's generator is
left suspended, and dbt, its stdout unread, blocks writing and keeps the working database's
lock past the run. The stand-in below behaves like dbt there: it fills its stdout, and on
SIGINT it logs its cancellation (more than a pipe holds) before it ends, so it never ends
while nobody reads the pipe (measured with the real dbt: SIGINT alone waited out the 25 s
timeout and needed SIGKILL).
"""

import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from pipelines.defs import dbt as dbt_defs

pytestmark = pytest.mark.unit

DBT_LIKE = """
import sys
try:
    while True:
        sys.stdout.write("x" * 1024 + "\\n")
except KeyboardInterrupt:
    for _ in range(1024):
        sys.stdout.write("cancelling " + "x" * 1024 + "\\n")
    sys.stdout.flush()
    sys.exit(2)
"""


def _started(timeout_s: float):
    process = subprocess.Popen([sys.executable, "-c", DBT_LIKE], stdout=subprocess.PIPE)
    time.sleep(0.5)  # long enough to fill the 64 KiB pipe and block
    assert process.poll() is None
    return SimpleNamespace(process=process, termination_timeout_seconds=timeout_s)


def test_a_dbt_blocked_on_its_unread_output_ends_on_sigint_without_waiting_for_the_kill():
    invocation = _started(timeout_s=8)
    began = time.monotonic()
    dbt_defs.stop_dbt(invocation)
    # ended by its own SIGINT handling (its cancellation log meets the closed pipe), not by
    # SIGKILL after the timeout
    assert invocation.process.returncode not in (None, -9)
    assert time.monotonic() - began < 4


def test_stop_running_dbt_ends_every_registered_dbt_and_forgets_it(monkeypatch):
    monkeypatch.setattr(dbt_defs, "_RUNNING", {})
    invocations = [_started(timeout_s=8) for _ in range(2)]
    for invocation in invocations:
        dbt_defs._RUNNING[invocation.process.pid] = invocation
    dbt_defs.stop_running_dbt()
    assert all(i.process.returncode not in (None, -9) for i in invocations)
    assert dbt_defs._RUNNING == {}


def test_a_dbt_that_ignores_sigint_is_killed_after_the_timeout():
    process = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(2, 1); time.sleep(60)"]
    )
    time.sleep(0.3)
    dbt_defs.stop_dbt(SimpleNamespace(process=process, termination_timeout_seconds=0.5))
    assert process.returncode == -9
