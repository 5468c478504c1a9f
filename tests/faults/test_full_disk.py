"""Fault: the disk holding WAREHOUSE_HOME fills up during a refresh.

The run must end with a summary (no traceback) that names what could not be written and says
the previous version is still published; published/ must be untouched; and the next run, with
space again, must publish exactly the generator's truth.

How the disk is filled:
- as root (mount allowed): WAREHOUSE_HOME is a small tmpfs, and a filler file leaves only a
  little space free: real ENOSPC for every writer (DuckDB, Dagster's sqlite, dbt, Parquet).
  Two levels: almost nothing free (Dagster's run storage fails as the run is created) and a
  few MB free (landing commits, then a write fails during dbt).
- otherwise: the `warehouse run` process gets RLIMIT_FSIZE (`ulimit -f`) with SIGXFSZ ignored,
  so a write that would grow a file beyond the limit fails with EFBIG. That proves the same
  error paths (a failed write anywhere ends in a clear message, nothing published, the next
  run recovers) but not ENOSPC itself: files below the limit can still grow, and sqlite and
  DuckDB report EFBIG in their own words. Set WAREHOUSE_TEST_DISK=rlimit to force it.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_ground_truth import FACTS, assert_marts_equal_truth
from tests.faults.conftest import WAREHOUSE, env_for, no_traceback, run

pytestmark = pytest.mark.slow
TMPFS_MB = 96


def _can_mount(probe: Path) -> bool:
    if os.environ.get("WAREHOUSE_TEST_DISK") == "rlimit" or os.geteuid() != 0:
        return False
    probe.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True
    )
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(probe)], check=True)
    return True


class Tmpfs:
    mode = "tmpfs"

    def __init__(self, home: Path):
        self.home = home
        home.mkdir(parents=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(home)], check=True
        )
        self.filler = home / f"filler-{uuid.uuid4().hex}"

    def fill(self, leave_kb: int) -> None:
        free_kb = shutil.disk_usage(self.home).free // 1024
        subprocess.run(
            ["fallocate", "-l", f"{max(free_kb - leave_kb, 0)}K", str(self.filler)], check=True
        )

    def clear(self) -> None:
        self.filler.unlink(missing_ok=True)

    def run(self, env) -> tuple[int, str, str]:
        return run(["run"], env)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.home)], check=False)


class FileSizeLimit:
    mode = "rlimit"

    def __init__(self, home: Path):
        self.home = home
        self.limit: int | None = None

    def fill(self, leave_kb: int) -> None:
        # a little above the largest file now (the working database or Dagster's run storage):
        # one of them soon needs to grow past it. A sixteenth of the tmpfs test's free space:
        # a file may grow by that much, where the tmpfs allowed all files together to.
        largest = max(p.stat().st_size for p in self.home.rglob("*") if p.is_file())
        self.limit = largest + leave_kb * 1024 // 16

    def clear(self) -> None:
        self.limit = None

    def run(self, env) -> tuple[int, str, str]:
        limit = self.limit

        def limited() -> None:
            if limit is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = subprocess.run(
            [str(WAREHOUSE), "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=limited,
        )
        return proc.returncode, proc.stdout, proc.stderr

    def close(self) -> None:
        pass


@pytest.fixture
def disk(tmp_path):
    home = tmp_path / "home"
    made = Tmpfs(home) if _can_mount(tmp_path / "probe") else FileSizeLimit(home)
    yield made
    made.close()


def _published(home: Path) -> tuple[str, bytes, bytes]:
    latest = home / "published" / "latest.json"
    return (
        json.loads(latest.read_text())["version"],
        latest.read_bytes(),
        (home / "published" / "catalog.duckdb").read_bytes(),
    )


@pytest.mark.parametrize("leave_kb", [200, 3000], ids=["nearly-nothing-free", "3MB-free"])
def test_a_full_disk_is_named_keeps_bi_on_the_previous_version_and_recovers(
    tmp_path, small_corpus, disk, leave_kb
):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copytree(small_corpus / "inspections", raw / "inspections")
    env = env_for(raw, disk.home)
    code, out, err = disk.run(env)
    assert code == 0, out + err
    before = _published(disk.home)

    for record_type in ("disputes", "traffic"):  # the night's new exports
        shutil.copytree(small_corpus / record_type, raw / record_type)
    disk.fill(leave_kb)
    code, out, err = disk.run(env)
    no_traceback(out, err)
    assert code != 0, out
    # the summary names what could not be written (a path) and says BI is unchanged
    [line] = [ln for ln in out.splitlines() if re.search(r"DISK FULL|FILE SIZE LIMIT", ln)]
    assert str(disk.home) in line, line
    assert f"BI still reads version {before[0]}" in out, out
    assert "the previous version stays published" in out, out
    assert _published(disk.home) == before  # latest.json and the catalog, byte for byte

    disk.clear()
    code, out, err = disk.run(env)
    no_traceback(out, err)
    assert code == 0, out + err
    assert "published: version" in out, out

    from tests.e2e.conftest import load_truth, make_warehouse

    truth = load_truth(small_corpus)
    wh = make_warehouse(tmp_path, raw)
    wh.home = disk.home
    assert_marts_equal_truth(wh, truth)
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type], table
    print(f"disk filled with: {disk.mode}")
