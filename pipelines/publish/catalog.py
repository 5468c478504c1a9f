"""The BI catalog: a small DuckDB file, readable by DuckDB 1.x, with one view per published
table in its schema (`marts`, `quality`) over one snapshot's Parquet files, plus
`meta.publish_info`."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish.snapshot import parquet_relation
from pipelines.sqltext import ident as q
from pipelines.sqltext import literal as lit

# Superset and other BI stacks pin duckdb < 2: write the storage format of DuckDB 1.0, which
# every 1.x and 2.x release reads. Storage number 64 is what that format puts in the header.
STORAGE_VERSION = "v1.0.0"
STORAGE_NUMBER = 64
MAX_1X_STORAGE_NUMBER = 68  # the newest storage number DuckDB 1.5 reads


def schema_of(info: dict[str, Any]) -> str:
    """The catalog schema of a manifest table (manifests before schemas: marts)."""
    return info.get("schema") or "marts"


def _comment(text: str | None) -> str:
    return lit(text) if text else "NULL"


def build_catalog(path: Path, manifest: dict[str, Any], snapshot_dir: Path) -> None:
    """Write the catalog for `manifest` to `path` (a temporary name; must not exist)."""
    if path.exists():
        path.unlink()
    conn = duckdb.connect(":memory:")
    try:
        conn.execute(f"ATTACH {lit(str(path))} AS cat (STORAGE_VERSION '{STORAGE_VERSION}')")
        for schema in sorted({schema_of(info) for info in manifest["tables"].values()} | {"marts"}):
            conn.execute(f"CREATE SCHEMA cat.{q(schema)}")
        conn.execute("CREATE SCHEMA cat.meta")
        conn.execute(
            "CREATE TABLE cat.meta.publish_info AS SELECT "
            f"{lit(manifest['version'])} AS version, {lit(manifest.get('run_id') or '')} "
            f"AS run_id, CAST({lit(manifest['created_at'])} AS TIMESTAMPTZ) AS created_at, "
            f"CAST({_comment(manifest.get('git_commit'))} AS VARCHAR) AS git_commit, "
            f"{lit(str(snapshot_dir / 'manifest.json'))} AS manifest"
        )
        conn.execute(
            "COMMENT ON TABLE cat.meta.publish_info IS "
            "'The published snapshot this catalog file points at'"
        )
        for table, info in manifest["tables"].items():
            files = [snapshot_dir / table / f["path"] for f in info["files"]]
            cols = []
            for col in info["columns"]:
                name, typ = col["name"], col["type"]
                if col.get("parquet_type", typ) != typ:
                    cols.append(f"CAST({q(name)} AS {typ}) AS {q(name)}")
                else:
                    cols.append(q(name))
            view = f"cat.{q(schema_of(info))}.{q(table)}"
            conn.execute(
                f"CREATE VIEW {view} AS SELECT {', '.join(cols)} FROM {parquet_relation(files)}"
            )
            description = info.get("description") or ""
            suffix = f"(snapshot {manifest['version']})"
            conn.execute(f"COMMENT ON VIEW {view} IS {lit((description + ' ' + suffix).strip())}")
            for col in info["columns"]:
                if col.get("comment"):
                    conn.execute(
                        f"COMMENT ON COLUMN {view}.{q(col['name'])} IS {_comment(col['comment'])}"
                    )
        conn.execute("DETACH cat")
    finally:
        conn.close()
    verify_catalog(path, manifest)


def storage_number(path: Path) -> int:
    """The storage version number in a DuckDB file's main header (after the 'DUCK' magic)."""
    with open(path, "rb") as fh:
        head = fh.read(20)
    if head[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB file")
    return struct.unpack("<Q", head[12:20])[0]


def _attach_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    # A fresh in-memory instance + ATTACH: duckdb.connect(path) could hand back a cached
    # instance of an older file at the same path if this process still holds one open.
    conn = duckdb.connect(":memory:")
    conn.execute(f"ATTACH {lit(str(path))} AS cat (READ_ONLY)")
    return conn


def storage_tag(path: Path) -> str:
    """DuckDB's own reading of the file's storage compatibility, e.g. 'v1.0.0+'."""
    conn = _attach_read_only(path)
    try:
        tags = conn.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'cat'"
        ).fetchone()[0]
    finally:
        conn.close()
    return dict(tags).get("storage_version", "")


def verify_catalog(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse a catalog that DuckDB 1.x could not open or that does not answer."""
    number = storage_number(path)
    if number > MAX_1X_STORAGE_NUMBER:
        raise RuntimeError(f"{path}: storage number {number} is unreadable by DuckDB 1.x")
    conn = _attach_read_only(path)
    try:
        tags = conn.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'cat'"
        ).fetchone()[0]
        tag = dict(tags).get("storage_version", "")
        if not tag.startswith("v1."):
            raise RuntimeError(f"{path}: storage version {tag!r} is not DuckDB 1.x compatible")
        version = conn.execute("SELECT version FROM cat.meta.publish_info").fetchone()[0]
        if version != manifest["version"]:
            raise RuntimeError(f"{path}: catalog says {version}, expected {manifest['version']}")
        for table, info in manifest["tables"].items():
            schema = schema_of(info)
            n = conn.execute(f"SELECT count(*) FROM cat.{q(schema)}.{q(table)}").fetchone()[0]
            if n != info["rows"]:
                raise RuntimeError(
                    f"{path}: {schema}.{table} has {n} rows, manifest {info['rows']}"
                )
    finally:
        conn.close()


def catalog_info(path: Path) -> dict[str, Any] | None:
    """meta.publish_info of the catalog file at `path` (None: absent or unreadable)."""
    if not path.exists():
        return None
    try:
        conn = _attach_read_only(path)
    except duckdb.Error:
        return None
    try:
        cursor = conn.execute("SELECT * FROM cat.meta.publish_info")
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        return dict(zip(names, row, strict=True)) if row else None
    except duckdb.Error:
        return None
    finally:
        conn.close()


def catalog_version(path: Path) -> str | None:
    """The snapshot version the catalog file at `path` points at (None: absent/unreadable)."""
    info = catalog_info(path)
    return info["version"] if info else None
