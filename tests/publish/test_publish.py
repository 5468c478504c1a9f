"""Snapshot, catalog, latest.json, idempotence, failure, rollback, retention, BI reflection."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import (
    PublishError,
    UnknownVersionError,
    list_snapshots,
    pinned,
    publish,
    release,
    rollback,
    storage_number,
    storage_tag,
)
from pipelines.publish import publisher as publisher_module
from pipelines.publish.retention import prune
from tests.publish.helpers import (
    COLUMN_DOCS,
    TABLES,
    catalog_differences,
    check_consistent,
    check_snapshot,
    make_source,
    tree_digest,
    write_dbt_manifest,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def env(tmp_path):
    source = make_source(tmp_path / "warehouse.duckdb")
    return {
        "source": source,
        "published": tmp_path / "published",
        "dbt": write_dbt_manifest(tmp_path / "manifest.json"),
        "tmp": tmp_path,
    }


def run_publish(env, run_id, seed=None, **kwargs):
    if seed is not None:
        make_source(env["source"], seed=seed)
    with duckdb.connect(str(env["source"]), read_only=True) as conn:
        return publish(
            conn, TABLES, env["published"], run_id=run_id, dbt_manifest=env["dbt"], **kwargs
        )


def test_snapshot_catalog_latest_contents(env):
    checks = [{"name": "keys_unique", "passed": True, "blocking": True}]
    result = run_publish(
        env, "3f2a9c1e-0000-4000-8000-000000000001", check_results=checks, git_commit="abc123"
    )
    published = env["published"]
    assert result.changed and result.reason == "published"
    assert result.version.endswith("-3f2a9c1e")
    assert result.catalog_path == published.resolve() / "catalog.duckdb"
    assert not (published / ".tmp").exists()

    # snapshot layout: the fact is Hive-partitioned by month, small tables are one file
    snap = published / "snapshots" / result.version
    manifest = check_snapshot(published, result.version)
    months = sorted(p.name for p in (snap / "fct_events").iterdir())
    assert months[0] == "month=2024-01" and "month=unknown" in months and len(months) > 5
    assert [p.name for p in (snap / "dim_codes").iterdir()] == ["part_0.parquet"]
    with duckdb.connect() as conn:
        codecs = {
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT compression FROM parquet_metadata('{snap}/*/**/*.parquet')"
            ).fetchall()
        }
    assert codecs == {"ZSTD"}

    # manifest
    assert manifest["run_id"] == "3f2a9c1e-0000-4000-8000-000000000001"
    assert manifest["git_commit"] == "abc123" and manifest["check_results"] == checks
    assert manifest["created_at"].endswith("+00:00")
    with duckdb.connect(str(env["source"]), read_only=True) as src:
        source_rows = {
            t: src.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in TABLES
        }
    assert {t: i["rows"] for t, i in manifest["tables"].items()} == source_rows
    assert result.row_counts == source_rows
    fct = manifest["tables"]["fct_events"]
    assert fct["partitioned_by"] == {
        "column": "month",
        "from": "happened_on",
        "granularity": "month",
    }
    assert len(fct["content_sha256"]) == 64
    big = next(c for c in fct["columns"] if c["name"] == "big")
    # HUGEINT that fits is written as int64; the view casts it back
    assert big["type"] == "HUGEINT" and big["parquet_type"] == "BIGINT"

    # latest.json
    latest = json.loads((published / "latest.json").read_text())
    assert latest["version"] == result.version and latest["action"] == "publish"
    assert latest["manifest"] == str(snap.resolve() / "manifest.json")
    for table in TABLES:
        info = latest["tables"][table]
        assert info["rows"] == source_rows[table]
        assert sorted(info["files"]) == sorted(
            str(p) for p in (snap.resolve() / table).rglob("*.parquet")
        )
        with duckdb.connect() as conn:  # the glob reads the same rows as the view
            n = conn.execute(f"SELECT count(*) FROM read_parquet('{info['glob']}')").fetchone()
        assert n[0] == source_rows[table]

    # the views return exactly the source rows, with the source types
    with duckdb.connect(str(env["source"]), read_only=True) as conn:
        conn.execute(f"ATTACH '{result.catalog_path}' AS cat (READ_ONLY)")
        for table in TABLES:
            assert catalog_differences(conn, table) == [], table
            assert [
                c
                for c in conn.execute(f"DESCRIBE marts.{table}").fetchall()
                if not c[0].startswith("_")
            ] == conn.execute(f"DESCRIBE cat.marts.{table}").fetchall()
        comments = dict(
            ((r[0], r[1]), r[2])
            for r in conn.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() "
                "WHERE database_name = 'cat' AND schema_name = 'marts'"
            ).fetchall()
        )
        view_comments = dict(
            conn.execute(
                "SELECT view_name, comment FROM duckdb_views() WHERE database_name = 'cat'"
            ).fetchall()
        )
    for table, cols in COLUMN_DOCS.items():
        for col, text in cols.items():
            assert comments[(table, col)] == text
        assert view_comments[table].startswith(f"The {table} table")
    assert comments[("fct_events", "station")] is None

    # DuckDB 1.x can open it: the header's storage number and DuckDB's own reading
    assert storage_number(result.catalog_path) == 64
    assert storage_tag(result.catalog_path).startswith("v1.")


# `make install` puts a pinned DuckDB 1.x here (beside the venv, not in it), as Superset has it.
DUCKDB1 = Path(
    os.environ.get("DUCKDB1_PYTHONPATH")
    or Path(__file__).resolve().parents[2] / ".venv" / "duckdb1"
)


def test_catalog_opens_in_duckdb_1x(env):
    assert (DUCKDB1 / "duckdb").is_dir(), f"no DuckDB 1.x at {DUCKDB1}: run `make install`"
    result = run_publish(env, "run-1x")
    code = (
        "import duckdb, sys; assert duckdb.__version__.startswith('1.'), duckdb.__version__;"
        f"c = duckdb.connect('{result.catalog_path}', read_only=True);"
        "print(c.execute('SELECT count(*) FROM marts.fct_events').fetchone()[0])"
    )
    out = subprocess.run(
        [os.sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(DUCKDB1)},
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == result.row_counts["fct_events"]


def test_publishing_the_same_run_twice_does_nothing(env):
    first = run_publish(env, "run-a")
    digest = tree_digest(env["published"])
    again = run_publish(env, "run-a")
    assert (again.changed, again.version, again.reason) == (
        False,
        first.version,
        "run already published",
    )
    assert tree_digest(env["published"]) == digest
    # another run on identical content: documented choice, no new version either
    same = run_publish(env, "run-b")
    assert (same.changed, same.version, same.reason) == (False, first.version, "content unchanged")
    assert tree_digest(env["published"]) == digest
    # changed content: a new version
    new = run_publish(env, "run-c", seed=1)
    assert new.changed and new.version > first.version
    assert check_consistent(env["published"]) == new.version


@pytest.mark.parametrize("where", ["write_table", "build_catalog", "write_latest"])
def test_failed_publish_leaves_published_byte_identical(env, monkeypatch, where):
    run_publish(env, "run-a")
    before = tree_digest(env["published"], skip_tmp=False)
    names_before = sorted(str(p) for p in env["published"].rglob("*"))
    target = {
        "write_table": "pipelines.publish.publisher.write_table",
        "build_catalog": "pipelines.publish.publisher.build_catalog",
        "write_latest": "pipelines.publish.publisher.write_latest",
    }[where]
    real = getattr(publisher_module, where)

    def boom(*args, **kwargs):
        if where == "write_table":
            # fail once a table's files are written (and unchanged tables already linked
            # into the staging folder): only fct_events changes with seed 2
            real(*args, **kwargs)
        raise RuntimeError(f"injected failure in {where}")

    monkeypatch.setattr(target, boom)
    with pytest.raises(RuntimeError, match="injected"):
        run_publish(env, "run-b", seed=2)
    assert tree_digest(env["published"], skip_tmp=False) == before
    assert sorted(str(p) for p in env["published"].rglob("*")) == names_before
    monkeypatch.undo()
    after = run_publish(env, "run-b")
    assert after.changed
    check_consistent(env["published"])


def test_rollback(env):
    v1 = run_publish(env, "run-1").version
    v2 = run_publish(env, "run-2", seed=1).version
    v3 = run_publish(env, "run-3", seed=2).version
    published = env["published"]
    assert list_snapshots(published) == [v1, v2, v3]
    assert rollback(published) == v2
    latest = json.loads((published / "latest.json").read_text())
    assert (latest["version"], latest["action"]) == (v2, "rollback")
    assert check_consistent(published) == v2
    assert rollback(published, None) == v1
    assert rollback(published, v3) == v3
    assert check_consistent(published) == v3
    digest = tree_digest(published)
    with pytest.raises(UnknownVersionError, match="unknown snapshot version 'nope'"):
        rollback(published, "nope")
    rollback(published, v1)
    with pytest.raises(PublishError, match="no snapshot older"):
        rollback(published)
    rollback(published, v3)
    assert tree_digest(published) != digest  # history grew; pointers back on v3
    assert check_consistent(published) == v3
    with pytest.raises(PublishError, match="nothing has been published"):
        rollback(env["tmp"] / "empty")


def test_a_rollback_pins_until_released(env):
    """After a rollback the next nights publish nothing (BI stays on the rolled-back
    version, published/ unchanged) until an operator releases the pin."""
    v1 = run_publish(env, "run-1").version
    run_publish(env, "run-2", seed=1)
    published = env["published"]
    assert pinned(published) is None
    assert rollback(published) == v1
    pin = pinned(published)
    assert pin["version"] == v1 and pin["action"] == "rollback"
    before = tree_digest(published)
    for night, seed in (("run-3", 3), ("run-4", 1)):  # new content, then the same as run-2's
        held = run_publish(env, night, seed=seed)
        assert (held.changed, held.reason, held.version) == (False, "pinned", v1)
        assert held.pin == pin
        assert tree_digest(published) == before
        assert check_consistent(published) == v1
    assert release(published) == pin
    assert pinned(published) is None and release(published) is None
    after = run_publish(env, "run-5", seed=5)
    assert after.changed and after.version != v1
    assert check_consistent(published) == after.version
    # rollback(pin=False) points back without pinning
    assert rollback(published, v1, pin=False) == v1
    assert pinned(published) is None


def test_retention_keeps_last_n_and_referenced(env):
    published = env["published"]
    versions = [run_publish(env, f"run-{i}", seed=i, keep=2).version for i in range(4)]
    assert list_snapshots(published) == versions[-2:]
    # a rolled-back-to snapshot is kept although older than the newest `keep`, pinned or not
    assert rollback(published, versions[2]) == versions[2]
    latest = json.loads((published / "latest.json").read_text())
    assert prune(published, latest, keep=1) == []
    assert list_snapshots(published) == versions[2:]
    release(published)
    newer = run_publish(env, "run-9", seed=9, keep=1).version
    assert list_snapshots(published) == [newer]
    # leftovers of killed runs: temp folders and never-committed snapshot folders go away
    (published / ".tmp" / "snap-x" / "t").mkdir(parents=True)
    (published / ".tmp" / "catalog-x.duckdb").write_bytes(b"partial")
    orphan = published / "snapshots" / "29990101T000000.000000Z-killed"
    (orphan / "fct_events").mkdir(parents=True)
    (orphan / "manifest.json").write_text("{}")
    result = run_publish(env, "run-10", seed=10, keep=1)
    assert not (published / ".tmp").exists() and not orphan.exists()
    assert list_snapshots(published) == [result.version]
    check_consistent(published)


def test_sqlalchemy_reflection_like_superset(env):
    import sqlalchemy as sa

    result = run_publish(env, "run-sa")
    engine = sa.create_engine(f"duckdb:///{result.catalog_path}?access_mode=read_only")
    try:
        inspector = sa.inspect(engine)
        assert sorted(inspector.get_view_names(schema="marts")) == sorted(TABLES)
        assert set(inspector.get_table_names(schema="marts")) <= set(TABLES)
        for table in TABLES:
            columns = {c["name"]: c for c in inspector.get_columns(table, schema="marts")}
            for col, text in COLUMN_DOCS[table].items():
                assert columns[col]["comment"] == text, (table, col)
            comment = inspector.get_table_comment(table, schema="marts")["text"]
            assert comment.startswith(f"The {table} table")
        fct = {c["name"]: c["type"] for c in inspector.get_columns("fct_events", schema="marts")}
        assert isinstance(fct["event_id"], sa.BigInteger)
        assert isinstance(fct["happened_on"], sa.Date)
        assert isinstance(fct["station"], sa.String)
        assert isinstance(fct["flagged"], sa.Boolean)
        assert isinstance(fct["occurred_at"], sa.DateTime)
        assert isinstance(fct["rate"], sa.Numeric) and (
            fct["rate"].precision,
            fct["rate"].scale,
        ) == (9, 6)
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM marts.fct_events")).scalar()
        assert n == result.row_counts["fct_events"]
    finally:
        engine.dispose()


def test_bad_arguments(env):
    with pytest.raises(ValueError):
        run_publish(env, "run-x", keep=0)
    with (
        duckdb.connect(str(env["source"]), read_only=True) as conn,
        pytest.raises(duckdb.CatalogException),
    ):
        publish(conn, ["no_such_table"], env["published"], run_id="run-y")
    assert not list(Path(env["published"]).rglob("*.parquet"))


def test_moved_published_dir_is_repointed(env):
    first = run_publish(env, "run-a")
    moved = env["tmp"] / "elsewhere" / "published"
    moved.parent.mkdir()
    env["published"].rename(moved)
    # any publish or rollback first rewrites the absolute paths for the new place
    assert rollback(moved, first.version) == first.version
    latest = json.loads((moved / "latest.json").read_text())
    assert latest["snapshot_dir"] == str(moved.resolve() / "snapshots" / first.version)
    assert all(f.startswith(str(moved.resolve())) for f in latest["tables"]["fct_events"]["files"])
    assert check_consistent(moved) == first.version


def test_wide_integers_round_trip_exactly(tmp_path):
    source = tmp_path / "w.duckdb"
    with duckdb.connect(str(source)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute("CREATE TABLE marts.dim_big (huge HUGEINT)")
        conn.execute(
            "INSERT INTO marts.dim_big VALUES (9007199254740993), "
            "(CAST('1180591620717411303425' AS HUGEINT))"
        )  # 2**53 + 1, 2**70 + 1
    with duckdb.connect(str(source), read_only=True) as conn:
        result = publish(conn, ["dim_big"], tmp_path / "published", run_id="run-big")
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["tables"]["dim_big"]["columns"][0]["parquet_type"] == "DECIMAL(38,0)"
    with duckdb.connect() as conn:
        conn.execute(f"ATTACH '{result.catalog_path}' AS c (READ_ONLY)")
        values = sorted(r[0] for r in conn.execute("SELECT huge FROM c.marts.dim_big").fetchall())
        assert (
            conn.execute("SELECT typeof(huge) FROM c.marts.dim_big LIMIT 1").fetchone()[0]
            == "HUGEINT"
        )
    assert values == [9007199254740993, 1180591620717411303425]


def test_bookkeeping_columns_are_not_published(env):
    """`_`-prefixed columns (the models' incremental state) stay in the working database."""
    result = run_publish(env, "run-bookkeeping")
    with duckdb.connect(str(result.catalog_path), read_only=True) as conn:
        columns = [r[0] for r in conn.execute("DESCRIBE marts.mart_summary").fetchall()]
    assert columns == ["happened_on", "events"]
