"""A crash at any commit of landing leaves a state from which the next run lands every row
exactly once (issue: nothing lost; crash-safe ledger). The landing kills itself (SIGKILL)
right after its N-th commit, for every N, with duplicates, corrections, a revert and failed
files present; the rerun must end exactly where an uninterrupted run ends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.generate import generate_corpus
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


def sweep(tmp: Path, raw: Path, start: Path | None, reference: dict) -> int:
    """Kill after commit 1, 2, ...; rerun; compare. Returns the number of commits swept."""
    for n in range(1, 80):
        db = tmp / f"sweep-{n}.duckdb"
        if start is not None:
            shutil.copyfile(start, db)
        crashed = land_forked(db, raw, fault=f"landing.commit:{n}")
        if crashed == 0:  # fewer than n commits: every point was swept
            assert landed_state(db) == reference
            return n - 1
        assert crashed == -9, f"the child ended with {crashed}, not killed after commit {n}"
        assert land_forked(db, raw) == 0
        assert landed_state(db) == reference, f"after a crash at commit {n}"
        db.unlink()
    raise AssertionError("landing never finished within 80 commits")


def test_a_crash_at_any_commit_of_a_first_landing_reruns_to_the_uninterrupted_state(scenario):
    tmp, before, _, _ = scenario
    clean = tmp / "clean-first.duckdb"
    assert land_forked(clean, before) == 0
    assert sweep(tmp, before, None, landed_state(clean)) >= 10


def test_a_crash_at_any_commit_of_a_night_reruns_to_the_uninterrupted_state(scenario):
    tmp, _, base, night = scenario
    clean = tmp / "clean-night.duckdb"
    shutil.copyfile(base, clean)
    assert land_forked(clean, night) == 0
    reference = landed_state(clean)
    # the night did what it should: the revert counts again, the correction replaced its
    # path, the second-folder copy is a duplicate of a version that counts
    ledger = {(row[0], row[2]) for row in reference["ledger"]}
    assert ("inspections/手工/x_20220716.csv", "loaded") in ledger
    assert ("inspections/手工/x_20220716.csv", "superseded") in ledger
    assert ("traffic/手工/t_20220625.csv", "superseded") in ledger
    assert any(
        row[0].startswith("traffic/二次上传/") and row[2] == "duplicate"
        for row in reference["ledger"]
    )
    assert sweep(tmp, night, base, reference) >= 6
