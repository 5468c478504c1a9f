"""Small source warehouses, a dbt manifest, and consistency checks for published/."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb

from pipelines.hashing import sha256_file
from pipelines.publish.catalog import catalog_version

TABLES = ["dim_codes", "fct_events", "mart_summary"]
REPO_ROOT = Path(__file__).resolve().parents[2]

COLUMN_DOCS = {
    "fct_events": {
        "event_id": "Natural key of the event",
        "happened_on": "Day of the event",
        "fine_yuan": "Fine in yuan",
        "rate": "Share in [0, 1]",
    },
    "dim_codes": {"code": "Code", "label": "Human label"},
    "mart_summary": {"happened_on": "Day", "events": "Events that day"},
}


def make_source(path: Path, seed: int = 0, rows: int = 400) -> Path:
    """A working warehouse with three marts tables; `seed` changes the content."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(f"""
            CREATE TABLE marts.fct_events AS
            SELECT range AS event_id,
                   DATE '2024-01-01' + CAST((range * 3 + {seed}) % 200 AS INTEGER) AS happened_on,
                   'station ''' || (range % 7) || '''' AS station,
                   CAST(range * 10 + {seed} AS BIGINT) AS fine_yuan,
                   CAST(((range + {seed}) % 100) / 100.0 AS DECIMAL(9, 6)) AS rate,
                   range % 5 = 0 AS flagged,
                   TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (range) MINUTE AS occurred_at,
                   CAST(range AS HUGEINT) AS big
            FROM range({rows})""")
        conn.execute("INSERT INTO marts.fct_events (event_id, station) VALUES (-1, NULL)")
        conn.execute(
            "CREATE TABLE marts.dim_codes AS SELECT 'C' || range AS code, "
            "'label ' || range AS label FROM range(6)"
        )
        conn.execute(
            "CREATE TABLE marts.mart_summary AS SELECT happened_on, "
            "count(*) AS events, 'state' AS _incremental_state "
            "FROM marts.fct_events GROUP BY ALL"
        )
    return path


def write_dbt_manifest(path: Path) -> Path:
    nodes = {}
    for table, cols in COLUMN_DOCS.items():
        nodes[f"model.cmw.{table}"] = {
            "resource_type": "model",
            "name": table,
            "alias": table,
            "schema": "marts",
            "description": f"The {table} table",
            "columns": {c: {"name": c, "description": d} for c, d in cols.items()},
        }
    nodes["test.cmw.x"] = {"resource_type": "test", "name": "not_null_x", "columns": {}}
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def tree_digest(root: Path, *, skip_tmp: bool = True) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if skip_tmp and rel.parts[0] == ".tmp":
            continue
        digest.update(str(rel).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def check_snapshot(published: Path, version: str) -> dict:
    """The snapshot is whole: manifest present, every file listed and intact."""
    snap = published / "snapshots" / version
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["version"] == version
    for table, info in manifest["tables"].items():
        listed = {f["path"] for f in info["files"]}
        on_disk = {str(p.relative_to(snap / table)) for p in (snap / table).rglob("*.parquet")}
        assert listed == on_disk, table
        for f in info["files"]:
            assert sha256_file(snap / table / f["path"]) == f["sha256"], (table, f)
        assert sum(f["rows"] for f in info["files"]) == info["rows"]
    return manifest


def query_catalog(catalog: Path) -> tuple[str, dict[str, int]]:
    """(version, {table: rows}) read through a fresh read-only attach of the catalog."""
    conn = duckdb.connect(":memory:")
    try:
        conn.execute(f"ATTACH '{catalog}' AS c (READ_ONLY)")
        version = conn.execute("SELECT version FROM c.meta.publish_info").fetchone()[0]
        counts = {
            t: conn.execute(f"SELECT count(*) FROM c.marts.{t}").fetchone()[0] for t in TABLES
        }
        # touch every column of every file, not only the footers
        for t in TABLES:
            conn.execute(f"SELECT * FROM c.marts.{t}").fetchall()
    finally:
        conn.close()
    return version, counts


def check_consistent(published: Path, allowed: set[str | None] | None = None) -> str | None:
    """Whatever is referenced is whole and answers; returns latest.json's version. The catalog
    must be on latest.json's version or, after a kill between the two renames, on one of
    `allowed` (the versions that were current before)."""
    latest_path = published / "latest.json"
    if not latest_path.exists():
        assert not (published / "catalog.duckdb").exists()
        return None
    # every folder in snapshots/ is whole (complete folders only ever appear by a rename)
    for snap in (published / "snapshots").iterdir():
        check_snapshot(published, snap.name)
    latest = json.loads(latest_path.read_text())
    manifest = check_snapshot(published, latest["version"])
    for table, info in latest["tables"].items():
        assert info["rows"] == manifest["tables"][table]["rows"]
        assert all(Path(f).exists() for f in info["files"])
    cat_version = catalog_version(published / "catalog.duckdb")
    assert cat_version in {latest["version"], *(allowed or set())}, (cat_version, latest)
    cat_manifest = check_snapshot(published, cat_version)
    version, counts = query_catalog(published / "catalog.duckdb")
    assert version == cat_version
    assert counts == {t: i["rows"] for t, i in cat_manifest["tables"].items()}
    return latest["version"]


def child_cmd(source: Path, published: Path, run_id: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).with_name("child_publish.py")),
        str(source),
        str(published),
        run_id,
        *extra,
    ]


def catalog_differences(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Rows where the catalog's view (attached as `cat`) and the source's marts.<table> differ,
    as multisets over the published columns (the source's, less its `_` bookkeeping columns),
    in both directions."""
    cols = ", ".join(f'"{r[0]}"' for r in conn.execute(f"DESCRIBE cat.marts.{table}").fetchall())
    return conn.execute(
        f"(SELECT {cols} FROM marts.{table} EXCEPT ALL SELECT * FROM cat.marts.{table}) "
        f"UNION ALL "
        f"(SELECT * FROM cat.marts.{table} EXCEPT ALL SELECT {cols} FROM marts.{table})"
    ).fetchall()
