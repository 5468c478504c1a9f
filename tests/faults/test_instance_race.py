"""Fault: two processes initialise the Dagster instance of a fresh WAREHOUSE_HOME at once.

Before the fix, Dagster's sqlite storages were created by whichever process came first, and
a second one racing it failed (`table alembic_version already exists`, `UNIQUE constraint
failed`) or, worse, left two alembic heads behind: that home's instance could never be opened
again. `warehouse run` and `warehouse dev` both prepare the instance through
`pipelines.cli.prepare_instance`; the children below do exactly what `warehouse run` does next
(`DagsterInstance.get()` and a query), several at once, on fresh homes.
"""

from __future__ import annotations

import subprocess
import sys

from tests.faults.conftest import env_for, no_traceback

CHILD = """
from pipelines.cli import prepare_instance
from pipelines.settings import load_settings
prepare_instance(load_settings())
from dagster import DagsterInstance
with DagsterInstance.get() as instance:
    instance.get_runs(limit=1)
print("instance ok")
"""

PROCESSES = 4
ROUNDS = 2


def test_processes_racing_on_a_fresh_home_all_get_a_working_instance(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    failures = []
    for attempt in range(ROUNDS):
        home = tmp_path / f"home{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD],
                env=env_for(raw, home),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0 or "instance ok" not in out:
                failures.append(err.strip().splitlines()[-1:] or [f"exit {proc.returncode}"])
            else:
                no_traceback(err)
        # and the home stays usable afterwards
        again = subprocess.run(
            [sys.executable, "-c", CHILD],
            env=env_for(raw, home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if again.returncode != 0:
            failures.append(["reopening: " + (again.stderr.strip().splitlines() or ["?"])[-1]])
    assert failures == []
