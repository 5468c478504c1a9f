"""publish() and rollback(): the only two operations that change published/.

Order of a publish (every step before the commit only adds files nobody points at):
  1. lock published/, clear the temp area, repair a catalog left one step behind, remove
     snapshots of killed runs that were never committed;
  2. write every table as Parquet into published/.tmp/snap-<version>/, check the written
     files against the source (row count and content hash), write the manifest, fsync all;
  3. rename the folder to published/snapshots/<version>/ (atomic, fsync the parent);
  4. build the catalog as published/.tmp/catalog-<version>.duckdb (DuckDB 1.x storage), verify;
  5. COMMIT: os.replace latest.json (written to a temp file and fsynced first);
  6. os.replace catalog.duckdb (fsynced first); fsync published/;
  7. prune snapshots beyond `keep` that nothing references; clear the temp area.
A kill before 5 leaves latest.json and the catalog on the previous version (the new snapshot
folder, if renamed, is unreferenced and removed by the next run); a kill between 5 and 6
leaves the catalog on the previous whole version, and the next publish or rollback rebuilds
it for latest.json's version first.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish.catalog import build_catalog, catalog_info
from pipelines.publish.fsutil import (
    clear_tmp,
    fsync_dir,
    fsync_file,
    fsync_tree,
    publish_lock,
    remove_tree,
    tmp_area,
)
from pipelines.publish.manifest import (
    CATALOG_NAME,
    FORMAT,
    LATEST_NAME,
    MANIFEST_NAME,
    PublishStateError,
    build_latest,
    dbt_descriptions,
    read_latest,
    read_manifest,
    run_version,
    snapshots_dir,
    write_latest,
)
from pipelines.publish.retention import (
    committed_versions,
    prune,
    remove_orphans,
    snapshot_versions,
)
from pipelines.publish.snapshot import (
    TablePlan,
    content_hash,
    file_rows,
    new_version,
    parquet_columns,
    parquet_relation,
    plan_table,
    sha256_file,
    write_table,
)

DEFAULT_KEEP = 14
log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """A publish or rollback refused to go on; published/ is unchanged."""


class UnknownVersionError(PublishError, LookupError):
    """rollback() was given a version that is not a kept snapshot."""


@dataclass(frozen=True)
class PublishResult:
    version: str | None  # the version BI sees after the call (None: nothing published yet)
    changed: bool  # a new snapshot was published by this call
    catalog_path: Path
    latest_path: Path
    row_counts: dict[str, int]
    reason: str  # "published" | "run already published" | "content unchanged"
    snapshot_dir: Path | None = None
    manifest_path: Path | None = None
    pruned: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _point_pointers(published_dir: Path, manifest: dict[str, Any], latest: dict[str, Any] | None,
                    action: str) -> dict[str, Any]:
    """Steps 4-6: build + verify the catalog, commit latest.json, swap the catalog in."""
    version = manifest["version"]
    tmp_catalog = tmp_area(published_dir) / f"catalog-{version}.duckdb"
    tmp_catalog.parent.mkdir(parents=True, exist_ok=True)
    build_catalog(tmp_catalog, manifest, snapshots_dir(published_dir) / version)
    fsync_file(tmp_catalog)
    new_latest = build_latest(published_dir, manifest, action=action, at=_now(),
                              previous=latest)
    write_latest(published_dir, new_latest)  # the commit point
    os.replace(tmp_catalog, published_dir / CATALOG_NAME)
    fsync_dir(published_dir)
    return new_latest


def _repair(published_dir: Path, latest: dict[str, Any] | None) -> dict[str, Any] | None:
    """Bring the pointers in line with latest.json before anything else:
    - a run killed between the two renames left the catalog one version behind latest.json
      (the previous version stayed readable meanwhile): rebuild it for latest.json's version;
    - published/ was moved (restored elsewhere): the absolute paths in latest.json and in the
      catalog's views are rewritten for the new place.
    Returns latest.json as it now is."""
    if latest is None:
        return None
    version = latest["version"]
    snap = snapshots_dir(published_dir) / version
    if latest.get("snapshot_dir") != str(snap):
        latest = build_latest(published_dir, read_manifest(published_dir, version),
                              action="relocate", at=_now(), previous=latest)
        write_latest(published_dir, latest)
    catalog = published_dir / CATALOG_NAME
    info = catalog_info(catalog)
    if info and info["version"] == version and info["manifest"] == str(snap / MANIFEST_NAME):
        return latest
    tmp_catalog = tmp_area(published_dir) / f"catalog-{version}.duckdb"
    tmp_catalog.parent.mkdir(parents=True, exist_ok=True)
    build_catalog(tmp_catalog, read_manifest(published_dir, version), snap)
    fsync_file(tmp_catalog)
    os.replace(tmp_catalog, catalog)
    fsync_dir(published_dir)
    return latest


def _prepare(published_dir: Path) -> dict[str, Any] | None:
    clear_tmp(published_dir)
    latest = _repair(published_dir, read_latest(published_dir))
    remove_orphans(published_dir, latest, latest["version"] if latest else None)
    return latest


def _table_columns(plan: TablePlan, parquet_types: dict[str, str],
                   descriptions: dict[str, Any]) -> list[dict[str, Any]]:
    comments = descriptions.get("columns", {})
    return [{"name": n, "type": t, "parquet_type": parquet_types.get(n, t),
             "comment": comments.get(n.lower()) or None} for n, t in plan.columns]


def _same_content(current: dict[str, Any], plans: list[TablePlan],
                  hashes: dict[str, tuple[int, str]], docs: dict[str, Any]) -> bool:
    """Same tables, same rows and schema (content hash), same descriptions."""
    tables = current.get("tables", {})
    if set(tables) != {p.table for p in plans}:
        return False
    for plan in plans:
        info = tables[plan.table]
        described = docs.get(plan.table, {})
        comments = described.get("columns", {})
        if info.get("content_sha256") != hashes[plan.table][1]:
            return False
        if (info.get("description") or "") != (described.get("description") or ""):
            return False
        if [c.get("comment") for c in info.get("columns", [])] != [
                comments.get(n.lower()) or None for n, _ in plan.columns]:
            return False
    return True


def _write_snapshot(conn: duckdb.DuckDBPyConnection, plans: list[TablePlan],
                    hashes: dict[str, tuple[int, str]], docs: dict[str, Any], staging: Path,
                    header: dict[str, Any]) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for plan in plans:
        rows, digest = hashes[plan.table]
        table_dir = staging / plan.table
        files = write_table(conn, plan, rows, table_dir)
        written = parquet_columns(conn, files)
        if [n for n, _ in written] != [n for n, _ in plan.columns]:
            raise PublishError(f"{plan.table}: Parquet columns {written} differ from the source")
        casts = {n: t for (n, t), (_, pt) in zip(plan.columns, written, strict=True) if t != pt}
        check = content_hash(conn, parquet_relation(files), plan.columns, casts)
        if check != (rows, digest):
            raise PublishError(f"{plan.table}: written Parquet {check} differs from the source "
                               f"{(rows, digest)}")
        per_file = file_rows(conn, files)
        described = docs.get(plan.table, {})
        tables[plan.table] = {
            "rows": rows,
            "content_sha256": digest,
            "description": described.get("description") or None,
            "partitioned_by": (None if plan.partition_source is None or rows == 0 else
                               {"column": plan.partition_column, "from": plan.partition_source,
                                "granularity": "month"}),
            "columns": _table_columns(plan, dict(written), described),
            "files": [{"path": str(f.relative_to(table_dir)), "rows": per_file[str(f)],
                       "bytes": f.stat().st_size, "sha256": sha256_file(f)} for f in files],
        }
    manifest = {**header, "tables": tables}
    (staging / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, default=str) + "\n")
    fsync_tree(staging)
    return manifest


def publish(
    conn: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    published_dir: Path | str,
    *,
    run_id: str,
    check_results: Any = None,
    keep: int = DEFAULT_KEEP,
    git_commit: str | None = None,
    dbt_manifest: Path | str | None = None,
    source_schema: str = "marts",
    partition_by: Mapping[str, str | None] | None = None,
) -> PublishResult:
    """Publish `source_schema.<table>` for every table as a new immutable snapshot and point
    the BI catalog and latest.json at it. Idempotent: a run that already published, or
    content identical to the current snapshot, publishes nothing (changed=False)."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    names = list(dict.fromkeys(tables))
    if not names:
        raise ValueError("no tables to publish")
    published_dir = Path(published_dir).resolve()
    catalog_path = published_dir / CATALOG_NAME
    latest_path = published_dir / LATEST_NAME
    with publish_lock(published_dir):
        try:
            latest = _prepare(published_dir)

            def unchanged(reason: str) -> PublishResult:
                # nothing written: report what BI sees now (the current snapshot)
                version = latest["version"]
                manifest = read_manifest(published_dir, version)
                snap = snapshots_dir(published_dir) / version
                return PublishResult(
                    version=version, changed=False,
                    catalog_path=catalog_path, latest_path=latest_path,
                    row_counts={t: i["rows"] for t, i in manifest["tables"].items()},
                    reason=reason, snapshot_dir=snap, manifest_path=snap / MANIFEST_NAME)

            done = run_version(latest, run_id)
            if done is not None and done in snapshot_versions(published_dir):
                return unchanged("run already published")

            plans = [plan_table(conn, t, source_schema, partition_by) for t in names]
            hashes = {p.table: content_hash(conn, p.relation, p.columns) for p in plans}
            docs = dbt_descriptions(Path(dbt_manifest) if dbt_manifest else None, names)
            if latest is not None:
                current = read_manifest(published_dir, latest["version"])
                if _same_content(current, plans, hashes, docs):
                    return unchanged("content unchanged")

            version = new_version(run_id, snapshot_versions(published_dir))
            header = {"format": FORMAT, "version": version, "run_id": run_id,
                      "created_at": _now(), "git_commit": git_commit,
                      "duckdb_version": duckdb.__version__, "source_schema": source_schema,
                      "check_results": check_results}
            staging = tmp_area(published_dir) / f"snap-{version}"
            manifest = _write_snapshot(conn, plans, hashes, docs, staging, header)
            root = snapshots_dir(published_dir)
            if not root.exists():
                root.mkdir()
                fsync_dir(published_dir)
            final = root / version
            os.rename(staging, final)
            fsync_dir(root)
            try:
                new_latest = _point_pointers(published_dir, manifest, latest, "publish")
            except BaseException:
                # not committed: take the unreferenced snapshot away again
                now = read_latest(published_dir)
                if now is None or now["version"] != version:
                    remove_tree(final, tmp_area(published_dir))
                raise
            try:
                pruned = prune(published_dir, new_latest, keep, catalog_at=version)
            except OSError as exc:  # published already; a later run prunes again
                log.warning("publish %s: pruning old snapshots failed: %s", version, exc)
                pruned = []
            return PublishResult(
                version=version, changed=True, catalog_path=catalog_path,
                latest_path=latest_path,
                row_counts={t: i["rows"] for t, i in manifest["tables"].items()},
                reason="published", snapshot_dir=final, manifest_path=final / MANIFEST_NAME,
                pruned=pruned)
        finally:
            clear_tmp(published_dir, remove_dir=True)


def rollback(published_dir: Path | str, version: str | None = None) -> str:
    """Point latest.json and the catalog at a kept snapshot (None: the one before the current
    version). Returns the version now current."""
    published_dir = Path(published_dir).resolve()
    with publish_lock(published_dir):
        try:
            latest = _prepare(published_dir)
            if latest is None:
                raise PublishError(f"nothing has been published under {published_dir}")
            kept = committed_versions(published_dir, latest)
            current = latest["version"]
            if version is None:
                older = [v for v in kept if v < current]
                if not older:
                    raise PublishError(f"no snapshot older than the current {current} is kept")
                target = older[-1]
            elif version not in kept:
                raise UnknownVersionError(
                    f"unknown snapshot version {version!r}; kept: {', '.join(kept) or 'none'}")
            else:
                target = version
            if target != current:
                _point_pointers(published_dir, read_manifest(published_dir, target), latest,
                                "rollback")
            return target
        finally:
            clear_tmp(published_dir, remove_dir=True)


def current_version(published_dir: Path | str) -> str | None:
    """The version latest.json names (what the catalog shows once any repair has run)."""
    latest = read_latest(Path(published_dir))
    return latest["version"] if latest else None


def list_snapshots(published_dir: Path | str) -> list[str]:
    """Kept, committed snapshot versions, oldest first."""
    published_dir = Path(published_dir)
    return committed_versions(published_dir, read_latest(published_dir))


__all__ = ["DEFAULT_KEEP", "PublishError", "PublishResult", "PublishStateError",
           "UnknownVersionError", "current_version", "list_snapshots", "publish", "rollback"]
