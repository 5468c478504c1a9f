"""Fault injection for the crash tests: die like `kill -9` right after the N-th commit.

`WAREHOUSE_FAULT_AT="landing.commit:3"` makes the process SIGKILL itself right after the third
call of `checkpoint("landing.commit")`. Unset (always, outside tests) a checkpoint costs one
dictionary lookup. tests/faults/ sweeps N over every commit of a landing run.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "WAREHOUSE_FAULT_AT"
_lock = threading.Lock()
_counts: dict[str, int] = {}


def checkpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    target, _, nth = spec.rpartition(":")
    if target != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
