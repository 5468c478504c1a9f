"""kill -9 at many points of a publish, concurrent BI readers, BI connections held open."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import catalog_version, publish
from tests.publish.helpers import (
    TABLES,
    check_consistent,
    child_cmd,
    make_source,
)


def publish_seed(
    source: Path, published: Path, run_id: str, seed: int, keep: int = 14, rows: int = 400
):
    make_source(source, seed=seed, rows=rows)
    with duckdb.connect(str(source), read_only=True) as conn:
        return publish(conn, TABLES, published, run_id=run_id, keep=keep)


def latest_version(published: Path) -> str | None:
    path = published / "latest.json"
    return json.loads(path.read_text())["version"] if path.exists() else None


class Reader:
    """reader_loop.py in a child process: a BI user querying the catalog all along."""

    def __init__(self, tmp: Path, published: Path, mode: str):
        self.stop = tmp / f"reader-{mode}.stop"
        self.progress = tmp / f"reader-{mode}.progress"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("reader_loop.py")),
                str(published / "catalog.duckdb"),
                str(published),
                str(self.stop),
                mode,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.wait_for(lambda seen: len(seen) >= 1)

    def seen(self) -> list[str]:
        try:
            return json.loads(self.progress.read_text())
        except (OSError, json.JSONDecodeError):
            return []

    def wait_for(self, condition, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.seen()):
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "reader made no progress"
            time.sleep(0.02)

    def finish(self) -> dict:
        self.stop.touch()
        out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err
        return json.loads(out)


def test_kill_9_at_any_point_leaves_previous_version_readable(tmp_path):
    source, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    # what an uninterrupted run on the final content publishes
    reference = publish_seed(source, tmp_path / "reference", "run-final", seed=50)
    ref_manifest = json.loads(reference.manifest_path.read_text())

    publish_seed(source, published, "run-0", seed=0, keep=3)
    reader = Reader(tmp_path, published, "fresh")
    allowed = {latest_version(published)}
    rng = random.Random(7)
    # deterministic kills just before / just after each rename of a publish (snapshot
    # folder, latest.json, catalog, a pruned folder), then kills at random moments
    # (order matters: a child first repairs what the previous kill left, with renames too)
    plans = [
        ("kill-at", kind, when)
        for kind, when in (
            ("snapshot", "before"),
            ("snapshot", "after"),
            ("latest", "before"),
            ("catalog", "after"),
            ("latest", "after"),
            ("trash", "before"),
        )
    ] + [("random",)] * 2
    outcomes = []
    for i, plan in enumerate(plans, start=1):
        make_source(source, seed=i)
        extra = list(plan) if plan[0] == "kill-at" else []
        proc = subprocess.Popen(
            child_cmd(source, published, f"run-{i}", *extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "start", proc.communicate()
        if plan[0] == "random":
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        outcomes.append((plan, proc.returncode, "done" in out))
        assert proc.returncode in (-signal.SIGKILL, 0), err
        # previous (or new) version whole and readable, nothing partial referenced
        version = check_consistent(published, allowed)
        allowed |= {version, catalog_version(published / "catalog.duckdb")}
    # every deterministic plan was killed (the pruning one once 3 snapshots were kept)
    assert all(rc == -signal.SIGKILL for plan, rc, _ in outcomes if plan[0] == "kill-at"), outcomes

    # the rerun publishes exactly what an uninterrupted run would
    rerun = publish_seed(source, published, "run-final", seed=50, keep=3)
    assert rerun.changed
    assert check_consistent(published) == rerun.version
    assert catalog_version(published / "catalog.duckdb") == rerun.version
    manifest = json.loads(rerun.manifest_path.read_text())
    for table in TABLES:
        ours, ref = manifest["tables"][table], ref_manifest["tables"][table]
        assert ours["content_sha256"] == ref["content_sha256"], table
        assert ours["rows"] == ref["rows"]
        assert [f["path"] for f in ours["files"]] == [f["path"] for f in ref["files"]]
    assert not (published / ".tmp").exists()
    snapshots = sorted(p.name for p in (published / "snapshots").iterdir())
    assert len(snapshots) <= 3 + 1  # keep=3 (+ a version the catalog may still reference)

    reader.wait_for(lambda seen: rerun.version in seen)
    summary = reader.finish()
    assert summary["errors"] == [] and summary["mismatches"] == [], summary
    assert summary["queries"] > 0


def test_reader_sees_only_whole_versions_during_two_publishes(tmp_path):
    source, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    v0 = publish_seed(source, published, "run-0", seed=0).version
    reader, held = Reader(tmp_path, published, "fresh"), Reader(tmp_path, published, "held")
    v1 = publish_seed(source, published, "run-1", seed=1).version
    reader.wait_for(lambda seen: v1 in seen)
    make_source(source, seed=2, rows=900)  # the second refresh changes the row counts too
    with duckdb.connect(str(source), read_only=True) as conn:
        v2 = publish(conn, TABLES, published, run_id="run-2").version
    reader.wait_for(lambda seen: v2 in seen)
    summary, held_summary = reader.finish(), held.finish()
    for s in (summary, held_summary):
        assert s["errors"] == [], s["errors"][:5]
        assert s["mismatches"] == [], s["mismatches"][:5]
        assert s["queries"] > 10
    assert set(summary["versions"]) <= {v0, v1, v2} and v2 in summary["versions"]
    # a connection held open keeps answering from the version it opened, whole
    assert held_summary["versions"] == [v0]


def test_bi_connection_held_open_does_not_fail_the_publish(tmp_path):
    """Superset-style: an SQLAlchemy (duckdb-engine) read_only connection stays open on the
    catalog across a publish. (A raw duckdb connection held open: the "held" reader above.)"""
    import sqlalchemy as sa

    source, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    v0 = publish_seed(source, published, "run-0", seed=0)
    catalog = published / "catalog.duckdb"
    engine = sa.create_engine(
        f"duckdb:///{catalog}?access_mode=read_only", poolclass=sa.pool.StaticPool
    )
    try:
        with engine.connect() as conn:
            before = conn.execute(sa.text("SELECT count(*) FROM marts.fct_events")).scalar()
            v1 = publish_seed(source, published, "run-1", seed=1, rows=700)
            assert v1.changed and v1.version != v0.version
            # the held connection still answers, whole, from the version it opened
            assert (
                conn.execute(sa.text("SELECT version FROM meta.publish_info")).scalar()
                == v0.version
            )
            again = conn.execute(sa.text("SELECT count(*) FROM marts.fct_events")).scalar()
            assert again == before == v0.row_counts["fct_events"]
    finally:
        engine.dispose()
    # a new connection (here: a new process) sees the new version
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True);"
            "print(c.execute('SELECT count(*) FROM marts.fct_events').fetchone()[0])",
            str(catalog),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == v1.row_counts["fct_events"] == 701


@pytest.mark.parametrize("step", [0, 1])
def test_catalog_left_behind_by_a_kill_is_repaired_first(tmp_path, step):
    """Deterministic version of the window between the latest.json and catalog renames."""
    source, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    v0 = publish_seed(source, published, "run-0", seed=0).version
    make_source(source, seed=1)
    # killed right after latest.json was replaced, before the catalog was
    proc = subprocess.run(
        child_cmd(source, published, "run-1", "kill-at", "latest", "after"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL
    new = latest_version(published)
    assert new != v0 and catalog_version(published / "catalog.duckdb") == v0
    check_consistent(published, {v0})
    if step == 0:  # the same run again: nothing new, but the catalog catches up
        # (a new run with new content: see the kill -9 test above)
        result = publish_seed(source, published, "run-1", seed=1)
        assert not result.changed and result.version == new
    elif step == 1:  # a rollback also repairs first, then moves both pointers
        from pipelines.publish import rollback

        assert rollback(published) == v0
        assert latest_version(published) == v0
    assert catalog_version(published / "catalog.duckdb") == latest_version(published)
    check_consistent(published)
