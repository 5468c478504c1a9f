"""A crash at any commit of landing leaves a state from which the next run lands every row
exactly once (issue: nothing lost; crash-safe ledger). The landing kills itself (SIGKILL)
right after its N-th commit, for every N, with duplicates, corrections, a revert and failed
files present; the rerun must end exactly where an uninterrupted run ends."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from pipelines.generate import generate_corpus
from pipelines.landing import land as land_module
from tests.faults.conftest import land_forked, landed_state

HEADER = "检查编号,检查日期,派出所,场所名称,场所类型,发现隐患,督促整改,下发通知书,停业整改\n"
V1 = HEADER + "M1,2022-06-26,古林派出所,手工店,小商店,1,1,0,否\n"
V2 = (
    HEADER + "M1,2022-06-26,古林派出所,手工店,小商店,3,1,0,否\n"
    "M2,2022-06-26,古林派出所,二店,小商店,0,0,0,否\n"
)
TRAFFIC = "决定书编号,违法时间,执勤单位,违法行为,处理方式,罚款金额\n"
T1 = TRAFFIC + "3302X0000001,2022-06-25 09:00,古林派出所,闯红灯,罚款,20\n"
T2 = TRAFFIC + "3302X0000001,2022-06-25 09:00,古林派出所,闯红灯,罚款,200\n"


def write(raw: Path, rel: str, text: str | bytes) -> None:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """raw/ before the night (landed clean: base.duckdb) and the night's raw/."""
    tmp = tmp_path_factory.mktemp("crash")
    corpus = tmp / "corpus"
    generate_corpus(corpus, stations=3, days=3, seed=5)  # duplicates, failed files, conflict
    before = tmp / "before"
    for folder in ("inspections", "disputes", "traffic"):
        shutil.copytree(corpus / folder, before / folder)
    write(before, "inspections/手工/x_20220716.csv", V1)
    write(before, "traffic/手工/t_20220625.csv", T1)
    base = tmp / "base.duckdb"
    assert land_forked(base, before) == 0
    write(before, "inspections/手工/x_20220716.csv", V2)  # a correction, landed
    assert land_forked(base, before) == 0

    night = tmp / "night"
    shutil.copytree(before, night)
    write(night, "inspections/手工/x_20220716.csv", V1)  # a revert to the first bytes
    write(night, "traffic/手工/t_20220625.csv", T2)  # a fine corrected, same name and date
    copy = sorted((night / "traffic").glob("*.csv"))[0]  # a re-upload in a second folder
    (night / "traffic" / "二次上传").mkdir()
    shutil.copyfile(copy, night / "traffic" / "二次上传" / copy.name)
    write(night, "disputes/坏的.csv", b"")  # a new broken file
    return tmp, before, base, night


def sweep(tmp: Path, raw: Path, start: Path | None, reference: dict, **landing) -> int:
    """Kill after commit 1, 2, ...; rerun; compare. Returns the number of commits swept.
    `landing`: more arguments of land_forked (threads, workers_min_bytes)."""
    for n in range(1, 80):
        db = tmp / f"sweep-{n}.duckdb"
        if start is not None:
            shutil.copyfile(start, db)
        crashed = land_forked(db, raw, fault=f"landing.commit:{n}", **landing)
        if crashed == 0:  # fewer than n commits: every point was swept
            assert landed_state(db) == reference
            return n - 1
        assert crashed == -9, f"the child ended with {crashed}, not killed after commit {n}"
        assert land_forked(db, raw, **landing) == 0
        assert landed_state(db) == reference, f"after a crash at commit {n}"
        db.unlink()
    raise AssertionError("landing never finished within 80 commits")


def test_a_crash_at_any_commit_of_a_first_landing_reruns_to_the_uninterrupted_state(scenario):
    tmp, before, _, _ = scenario
    clean = tmp / "clean-first.duckdb"
    assert land_forked(clean, before) == 0
    assert sweep(tmp, before, None, landed_state(clean)) >= 10


def test_a_crash_at_any_commit_while_workers_read_ahead_reruns_to_the_same_state(
    scenario, monkeypatch
):
    """The same sweep with the files read by worker processes (prefetch.py, as a rebuild
    lands): the landing process is killed with its workers still reading."""
    tmp, before, _, _ = scenario
    clean = tmp / "clean-first.duckdb"
    if not clean.exists():
        assert land_forked(clean, before) == 0
    monkeypatch.setattr(land_module, "FLUSH_ROWS", 200)  # more commits to kill at
    ahead = {"threads": 2, "workers_min_bytes": 0}
    reference = tmp / "clean-ahead.duckdb"
    assert land_forked(reference, before, **ahead) == 0
    assert landed_state(reference) == landed_state(clean)
    assert sweep(tmp, before, None, landed_state(clean), **ahead) >= 10
    # the killed landings' workers saw their parent go and ended
    deadline = time.monotonic() + 10
    while stray_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stray_processes() == []


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[2])


def stray_processes() -> list[int]:
    """Live processes of this test's process group whose parent is outside it, other than
    this process's ancestors: orphans that a killed landing left (re-parented to init).
    pytest-xdist's other workers and what they start have their parents in the group."""
    group, ancestors, pid = os.getpgid(0), set(), os.getpid()
    while pid > 1 and pid not in ancestors:
        ancestors.add(pid)
        pid = (_stat(pid) or ("", 0, 0))[1]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ancestors:
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[2] != group or stat[0] == "Z":
            continue
        parent = _stat(stat[1])
        if parent is None or parent[2] != group:
            found.append(int(entry.name))
    return found
