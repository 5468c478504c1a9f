"""A night's publish hashes only the months whose row count or largest row stamp changed
(pipelines/publish/stamps.py), and publishes exactly what hashing every month would."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import publish, snapshot, stamps

pytestmark = pytest.mark.unit

TABLE = "fct_events"
STAMPS = {TABLE: "_resolved_at"}
VIEW = (
    "CREATE OR REPLACE VIEW marts.fct_events AS SELECT event_id, happened_on, {fine} AS "
    "fine_yuan, _resolved_at FROM intermediate.int_events WHERE NOT is_rejected"
)


@pytest.fixture
def source(tmp_path) -> Path:
    """A fact view over stamped rows, as the models leave it: 90 events over three months."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA intermediate; CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE intermediate.int_events AS SELECT i AS event_id, "
            "CAST(DATE '2024-01-01' + to_days(CAST(i AS INTEGER)) AS DATE) AS happened_on, "
            "i * 10 AS fine_yuan, "
            "i % 29 = 0 AS is_rejected, TIMESTAMP '2024-04-01 02:00:00' AS _resolved_at "
            "FROM range(90) AS t(i)"
        )
        conn.execute(VIEW.format(fine="fine_yuan"))
    return path


def night(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as conn:
        for sql in statements:
            conn.execute(sql)


def run(source: Path, published: Path, run_id: str, row_stamps=STAMPS):
    with duckdb.connect(str(source), read_only=True) as conn:
        return publish(conn, [TABLE], published, run_id=run_id, row_stamps=row_stamps)


def months(result) -> dict[str, dict]:
    manifest = json.loads(result.manifest_path.read_text())
    return {f["partition"]: f for f in manifest["tables"][TABLE]["files"]}


def hashed_months(monkeypatch) -> list[str]:
    """The WHERE of every content hash of the source that stamps.py asks for."""
    calls: list[str] = []
    real = stamps.hash_parts

    def spy(conn, relation, columns, casts=None, key_sql="''", where=""):
        calls.append(where)
        return real(conn, relation, columns, casts, key_sql=key_sql, where=where)

    monkeypatch.setattr(stamps, "hash_parts", spy)
    return calls


def full_publish(source: Path, tmp_path: Path):
    """The same source published with every month hashed, into a fresh folder."""
    return run(source, tmp_path / "full", "full", row_stamps=None)


def test_a_night_hashes_only_the_months_it_changed(source, tmp_path, monkeypatch):
    published = tmp_path / "published"
    first = run(source, published, "run-1")
    assert set(months(first)) == {"2024-01", "2024-02", "2024-03"}
    assert all(f["source_stamp"] == "2024-04-01 02:00:00" for f in months(first).values())
    night(
        source,
        # March: one record resolved again (delete+insert, a new stamp); January loses a row
        "DELETE FROM intermediate.int_events WHERE event_id = 70",
        "INSERT INTO intermediate.int_events VALUES "
        "(70, DATE '2024-03-11', 7001, false, TIMESTAMP '2024-04-02 02:00:00')",
        "DELETE FROM intermediate.int_events WHERE event_id = 3",
    )
    calls = hashed_months(monkeypatch)
    second = run(source, published, "run-2")
    assert second.changed
    # one query per changed month (each by its own date range), none for February
    assert [("2024-01" in c, "2024-03" in c) for c in calls] == [(True, False), (False, True)]
    assert not any("2024-02" in c for c in calls)
    new, old = months(second), months(first)
    # linked, its entry kept (but the time its stat was taken: its bytes were just read again,
    # pipelines/publish/filecheck.py)
    assert new["2024-02"] | {"stat_at_ns": 0} == old["2024-02"] | {"stat_at_ns": 0}
    assert new["2024-03"]["source_stamp"] == "2024-04-02 02:00:00"
    assert new["2024-01"]["rows"] == old["2024-01"]["rows"] - 1
    # exactly what hashing every month gives
    full = full_publish(source, tmp_path)
    assert {k: f["content_sha256"] for k, f in months(full).items()} == {
        k: f["content_sha256"] for k, f in new.items()
    }
    manifests = [json.loads(r.manifest_path.read_text()) for r in (second, full)]
    assert len({m["tables"][TABLE]["content_sha256"] for m in manifests}) == 1
    # nothing new since: nothing hashed, nothing published
    calls.clear()
    assert not run(source, published, "run-3").changed
    assert calls == []


def test_a_changed_view_hashes_every_month(source, tmp_path, monkeypatch):
    published = tmp_path / "published"
    first = run(source, published, "run-1")
    night(source, VIEW.format(fine="fine_yuan * 2"))  # a deploy: same rows, same stamps
    calls = hashed_months(monkeypatch)
    second = run(source, published, "run-2")
    assert calls == [""]  # every month
    assert second.changed
    assert all(months(second)[k]["sha256"] != f["sha256"] for k, f in months(first).items())
    full = months(full_publish(source, tmp_path))
    assert {k: f["content_sha256"] for k, f in full.items()} == {
        k: f["content_sha256"] for k, f in months(second).items()
    }


def test_rows_changed_behind_the_models_back_need_the_full_mode(source, tmp_path):
    """The contract stamps.py relies on, as the incremental row checks do: every write of a
    row raises its stamp. An UPDATE by hand without one is not seen by a night; the full mode
    (WAREHOUSE_VALIDATION_FULL, row_stamps=None) hashes every month and publishes it."""
    published = tmp_path / "published"
    run(source, published, "run-1")
    night(source, "UPDATE intermediate.int_events SET fine_yuan = -1 WHERE event_id = 40")
    assert not run(source, published, "run-2").changed
    full = run(source, published, "run-3", row_stamps=None)
    assert full.changed
    with duckdb.connect() as conn:
        fines = conn.execute(
            f"SELECT fine_yuan FROM read_parquet('{full.snapshot_dir}/{TABLE}/**/*.parquet') "
            "WHERE event_id = 40"
        ).fetchall()
    assert fines == [(-1,)]


def test_a_table_that_is_not_a_view_hashes_every_month(source, tmp_path, monkeypatch):
    night(
        source,
        "DROP VIEW marts.fct_events",
        "CREATE TABLE marts.fct_events AS SELECT event_id, happened_on, fine_yuan, "
        "_resolved_at FROM intermediate.int_events",
    )
    published = tmp_path / "published"
    calls = hashed_months(monkeypatch)
    first = run(source, published, "run-1")
    run(source, published, "run-2")
    assert calls == ["", ""]
    assert "source" not in json.loads(first.manifest_path.read_text())["tables"][TABLE]


@pytest.mark.parametrize("kind", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
def test_month_stamps_group_rows_as_the_month_partitions_do(tmp_path, kind):
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'Asia/Shanghai'")
        conn.execute(
            f"CREATE TABLE t AS SELECT CAST(d AS {kind}) AS d, s AS _stamp FROM (VALUES "
            "('2024-01-31', 1), ('2024-02-01', 2), ('2024-02-29', 5), (NULL, 3), "
            "('2024-12-31 23:59:59', 4)) AS v(d, s)"
            if kind != "DATE"
            else "CREATE TABLE t AS SELECT CAST(d AS DATE) AS d, s AS _stamp FROM (VALUES "
            "('2024-01-31', 1), ('2024-02-01', 2), ('2024-02-29', 5), (NULL, 3), "
            "('2024-12-31', 4)) AS v(d, s)"
        )
        plan = snapshot.plan_table(conn, "t", "main", {"t": "d"})
        got = snapshot.month_stamps(conn, plan, "_stamp")
        expected = dict(
            conn.execute(
                f"SELECT {snapshot.month_sql(plan)} AS m, count(*) FROM t GROUP BY m"
            ).fetchall()
        )
    assert {m: n for m, (n, _) in got.items()} == expected
    assert got["2024-02"] == (2, "5") and got["unknown"] == (1, "3")
