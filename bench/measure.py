"""Run one contender in a fresh process: wall time and peak memory.

Peak memory is reported two ways and the larger is used:
- `ru_maxrss` of the child from os.wait4 (the largest single process of its tree: Linux folds
  the maxrss of reaped grandchildren, such as dbt's subprocess, into it);
- the peak of the summed RSS of the whole process tree, polled from /proc every 0.1 s
  (catches Dagster and dbt being resident at the same time; shared pages count twice).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    returncode: int
    wall_s: float
    maxrss_mib: float
    tree_peak_mib: float
    cpu_s: float  # user + system of the child and its reaped descendants (load-independent-ish)
    capped: bool = False  # killed because the tree exceeded the RSS cap

    @property
    def peak_mib(self) -> float:
        return max(self.maxrss_mib, self.tree_peak_mib)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields start after the last ')'
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss(pid: int) -> int:
    """Summed resident bytes of pid and all its descendants (0 once it is gone)."""
    tree = _children()
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(tree.get(p, ()))
    return total


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    poll_s: float = 0.1,
    rss_cap_mib: float | None = None,
) -> Measured:
    """Run cmd in its own session; with rss_cap_mib, kill its whole process group when the
    tree's resident memory exceeds the cap (a shared machine must not start swapping/OOM)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        peak = [0]
        capped = [False]
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                rss = tree_rss(proc.pid)
                peak[0] = max(peak[0], rss)
                if rss_cap_mib and rss > rss_cap_mib * 2**20 and not capped[0]:
                    capped[0] = True
                    _kill_group(proc.pid)
                done.wait(poll_s)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            raise
        wall = time.perf_counter() - start
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
    return Measured(
        proc.returncode,
        wall,
        usage.ru_maxrss / 1024,
        peak[0] / 2**20,
        usage.ru_utime + usage.ru_stime,
        capped[0],
    )


def _kill_group(pid: int) -> None:
    """SIGKILL the contender's session (its own process group, started above)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
