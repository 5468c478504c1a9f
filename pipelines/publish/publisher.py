"""publish() and rollback(): the only two operations that change published/.

Order of a publish (every step before the commit only adds files nobody points at):
  1. lock published/, clear the temp area, repair a catalog left one step behind, remove
     snapshots of killed runs that were never committed;
  2. write every table as Parquet into published/.tmp/snap-<version>/, check the written
     files against the source (row count and content hash), write the manifest, fsync all;
     a month (or a one-file table) whose source hash equals the current snapshot's is not
     written but hard-linked from the current snapshot, after checking its bytes (filecheck.py);
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

import errno
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.hashing import sha256_file
from pipelines.publish import stamps
from pipelines.publish.catalog import build_catalog, catalog_info, schema_of
from pipelines.publish.filecheck import stat_fields, verified
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
from pipelines.publish.pin import read_pin, remove_pin, write_pin
from pipelines.publish.retention import (
    committed_versions,
    prune,
    remove_orphans,
    snapshot_versions,
)
from pipelines.publish.snapshot import (
    FILE_COLUMN,
    Partial,
    TablePlan,
    combine,
    digest,
    file_layout,
    file_rows,
    hash_parts,
    new_version,
    parquet_columns,
    parquet_relation,
    plan_table,
    reusable_files,
    write_table,
)
from pipelines.sqltext import ident as q

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
    reason: str  # "published" | "run already published" | "content unchanged" | "pinned"
    snapshot_dir: Path | None = None
    manifest_path: Path | None = None
    pruned: list[str] = field(default_factory=list)
    pin: dict[str, Any] | None = None  # the rollback's pin that kept this run from publishing


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _point_pointers(
    published_dir: Path, manifest: dict[str, Any], latest: dict[str, Any] | None, action: str
) -> dict[str, Any]:
    """Steps 4-6: build + verify the catalog, commit latest.json, swap the catalog in."""
    version = manifest["version"]
    tmp_catalog = tmp_area(published_dir) / f"catalog-{version}.duckdb"
    tmp_catalog.parent.mkdir(parents=True, exist_ok=True)
    build_catalog(tmp_catalog, manifest, snapshots_dir(published_dir) / version)
    fsync_file(tmp_catalog)
    new_latest = build_latest(published_dir, manifest, action=action, at=_now(), previous=latest)
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
        latest = build_latest(
            published_dir,
            read_manifest(published_dir, version),
            action="relocate",
            at=_now(),
            previous=latest,
        )
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


def _table_columns(
    plan: TablePlan, parquet_types: dict[str, str], descriptions: dict[str, Any]
) -> list[dict[str, Any]]:
    comments = descriptions.get("columns", {})
    return [
        {
            "name": n,
            "type": t,
            "parquet_type": parquet_types.get(n, t),
            "comment": comments.get(n.lower()) or None,
        }
        for n, t in plan.columns
    ]


def _same_content(
    current: dict[str, Any],
    plans: list[TablePlan],
    hashes: dict[str, tuple[int, str]],
    docs: dict[str, Any],
) -> bool:
    """Same tables, same rows and schema (content hash), same descriptions."""
    tables = current.get("tables", {})
    if set(tables) != {p.table for p in plans}:
        return False
    for plan in plans:
        info = tables[plan.table]
        if schema_of(info) != plan.schema:
            return False
        described = docs.get(plan.table, {})
        comments = described.get("columns", {})
        if info.get("content_sha256") != hashes[plan.table][1]:
            return False
        if (info.get("description") or "") != (described.get("description") or ""):
            return False
        if [c.get("comment") for c in info.get("columns", [])] != [
            comments.get(n.lower()) or None for n, _ in plan.columns
        ]:
            return False
    return True


def _link(src: Path, dst: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Hard-link an unchanged file of the current snapshot into the new one: no bytes written,
    and deleting either snapshot folder later leaves the other's name intact. Where a link is
    impossible (another filesystem, a filesystem without links, the link limit) copy it and
    check the copy. Returns the new file's manifest entry."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return entry  # the same inode: the same stat
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copyfile(src, dst)
        copied = verified(dst, entry, read_bytes=True)
        if copied is None:
            raise PublishError(f"copy of {src} to {dst} differs from the original") from exc
        return copied


def _partition_of(file: Path, layout: dict[str, str] | None) -> str:
    """'2024-03' for <table>/month=2024-03/part_0.parquet; '' for a one-file table."""
    return file.parent.name.split("=", 1)[1] if layout else ""


def _reuse(
    plan: TablePlan,
    expected: dict[str, Partial],
    current: dict[str, Any] | None,
    current_dir: Path | None,
    layout: dict[str, str] | None,
    read_bytes: bool = False,
) -> dict[str, dict[str, Any]]:
    """The files of the current snapshot whose source rows hash the same as now and whose bytes
    are still what its manifest recorded (filecheck.py; `read_bytes`: every file's sha256), by
    partition, with their manifest entries: they are linked, not written."""
    candidates = {
        key: old
        for key, old in reusable_files(current, plan, layout).items()
        if key in expected
        and old["rows"] == expected[key][0]
        and old["content_sha256"] == digest(plan.columns, expected[key])
    }
    sources = {key: current_dir / plan.table / old["path"] for key, old in candidates.items()}
    # hashlib releases the GIL: one thread per core hashes the files it must read side by side
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        checked = pool.map(
            lambda src, old: verified(src, old, read_bytes=read_bytes),
            sources.values(),
            candidates.values(),
        )
        intact = dict(zip(candidates, checked, strict=True))
    reused: dict[str, dict[str, Any]] = {}
    for key in candidates:
        if intact[key] is not None:
            reused[key] = intact[key]
        else:
            log.warning("%s differs from its manifest: written anew", sources[key])
    return reused


def _write_or_link(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    table_dir: Path,
    layout: dict[str, str] | None,
    to_write: list[str],
    reused: dict[str, dict[str, Any]],
    current_dir: Path | None,
) -> list[Path]:
    """Write the partitions in `to_write` (every row when nothing is reused), link the reused
    files (their entries in `reused` become the new files'). Returns the files written."""
    written: list[Path] = []
    if to_write:
        written = write_table(
            conn,
            plan,
            table_dir,
            partitioned=layout is not None,
            months=to_write if layout and reused else None,
        )
    else:
        table_dir.mkdir(parents=True)
    for key, old in reused.items():
        reused[key] = _link(current_dir / plan.table / old["path"], table_dir / old["path"], old)
    return written


def _parquet_types(
    conn: duckdb.DuckDBPyConnection, plan: TablePlan, files: list[Path]
) -> list[tuple[str, str]]:
    """The one Parquet schema of the table's files: linked and new files must agree (the views
    read them as one), with the source's column names in its order. `files`: the new ones and
    one linked file, which stands for all (the current snapshot's files were checked to share
    one schema when it was published, and their bytes are unchanged)."""
    schemas = {tuple(parquet_columns(conn, [f])) for f in files}
    if len(schemas) != 1:
        raise PublishError(f"{plan.table}: files with different Parquet schemas {schemas}")
    parquet_types = list(schemas.pop())
    if [n for n, _ in parquet_types] != [n for n, _ in plan.columns]:
        raise PublishError(f"{plan.table}: Parquet columns {parquet_types} differ from the source")
    return parquet_types


def _check_written(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    written: list[Path],
    parquet_types: list[tuple[str, str]],
    layout: dict[str, str] | None,
    to_write: list[str],
    expected: dict[str, Partial],
) -> dict[str, Partial]:
    """The new files against the source, partition by partition. Returns the content hash
    parts of each written file, by file name."""
    casts = {n: t for (n, t), (_, pt) in zip(plan.columns, parquet_types, strict=True) if t != pt}
    got: dict[str, Partial] = {}
    if written:
        got = hash_parts(
            conn,
            parquet_relation(written, with_filename=True),
            plan.columns,
            casts,
            key_sql=q(FILE_COLUMN),
        )
    by_partition: dict[str, list[Partial]] = {}
    for f in written:
        by_partition.setdefault(_partition_of(f, layout), []).append(got.get(str(f), (0, 0, 0)))
    for key in sorted(set(by_partition) | set(to_write)):
        check = combine(by_partition.get(key, []))
        if check != expected.get(key):
            raise PublishError(
                f"{plan.table}: written Parquet {key or 'file'} "
                f"{check} differs from the source {expected.get(key)}"
            )
    return got


def _file_entries(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    files: list[Path],
    table_dir: Path,
    layout: dict[str, str] | None,
    reused: dict[str, dict[str, Any]],
    got: dict[str, Partial],
    rows: int,
) -> list[dict[str, Any]]:
    """The manifest's entry of every file (a linked file keeps its old entry: its bytes were
    verified, so were its rows), checking the row counts of the new files' Parquet metadata and
    of all files together against the source."""
    per_file = file_rows(conn, [f for f in files if _partition_of(f, layout) not in reused])
    entries = []
    for f in files:
        path, key = str(f.relative_to(table_dir)), _partition_of(f, layout)
        if key in reused:
            entry = dict(reused[key])  # verified before linking: same bytes, same inode
        else:
            entry = {
                **stat_fields(f),  # taken before the read below: see filecheck.py
                "path": path,
                **({"partition": key} if layout else {}),
                "rows": per_file[str(f)],
                "bytes": f.stat().st_size,
                "sha256": sha256_file(f),
                "content_sha256": digest(plan.columns, got.get(str(f), (0, 0, 0))),
            }
        entries.append(entry)
    if sum(e["rows"] for e in entries) != rows:
        raise PublishError(
            f"{plan.table}: files hold {sum(e['rows'] for e in entries)} rows, the source {rows}"
        )
    return entries


def _write_table(
    conn: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    parts: dict[str, Partial],
    described: dict[str, Any],
    staging: Path,
    current: dict[str, Any] | None,
    current_dir: Path | None,
    source: dict[str, Any] | None = None,
    read_bytes: bool = False,
) -> dict[str, Any]:
    """One table into staging/<table>/; returns its manifest entry. `source`: the row stamps
    behind its partials (stamps.table_parts), recorded for the next publish; `read_bytes`: the
    files to link are checked by their sha256 even where their stat vouches for them."""
    whole = combine(parts.values())
    rows = whole[0]
    layout = file_layout(plan, rows)
    # what each partition (or the one file, '') must hold
    expected = parts if layout else {"": whole}
    table_dir = staging / plan.table
    reused = _reuse(plan, expected, current, current_dir, layout, read_bytes)
    to_write = sorted(k for k in expected if k not in reused)
    written = _write_or_link(conn, plan, table_dir, layout, to_write, reused, current_dir)
    files = sorted(p for p in table_dir.rglob("*.parquet") if p.is_file())
    linked = [table_dir / e["path"] for e in reused.values()]
    parquet_types = _parquet_types(conn, plan, (written + linked[:1]) or files)
    got = _check_written(conn, plan, written, parquet_types, layout, to_write, expected)
    entries = _file_entries(conn, plan, files, table_dir, layout, reused, got, rows)
    for entry in entries:
        key = entry.get("partition", "")
        entry.update(stamps.file_fields(source, key, expected[key]))
    log.info(
        "publish %s: %d file(s) written, %d reused from the current snapshot",
        plan.table,
        len(written),
        len(reused),
    )
    return {
        "schema": plan.schema,
        "rows": rows,
        "content_sha256": digest(plan.columns, whole),
        "description": described.get("description") or None,
        "partitioned_by": layout,
        "columns": _table_columns(plan, dict(parquet_types), described),
        "files": entries,
        **stamps.table_fields(source),
    }


def _write_snapshot(
    conn: duckdb.DuckDBPyConnection,
    plans: list[TablePlan],
    parts: dict[str, dict[str, Partial]],
    docs: dict[str, Any],
    staging: Path,
    header: dict[str, Any],
    current: dict[str, Any] | None,
    current_dir: Path | None,
    sources: Mapping[str, dict[str, Any] | None] | None = None,
    read_bytes: bool = False,
) -> dict[str, Any]:
    """Every table into `staging`. A month (or a one-file table) whose source rows hash the same
    as in the current snapshot is hard-linked from it after checking its bytes; the
    other months are written and their Parquet is checked against the source hash, month by
    month. Either way every file of the new snapshot is verified."""
    tables = {
        plan.table: _write_table(
            conn,
            plan,
            parts[plan.table],
            docs.get(plan.table, {}),
            staging,
            current,
            current_dir,
            (sources or {}).get(plan.table),
            read_bytes,
        )
        for plan in plans
    }
    manifest = {**header, "tables": tables}
    (staging / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, default=str) + "\n"
    )
    fsync_tree(staging)
    return manifest


def _table_names(tables: Sequence[str], keep: int) -> list[str]:
    """The tables to publish, each once; refuses a bad `keep`, none, or a name twice."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    names = list(dict.fromkeys(tables))
    if not names:
        raise ValueError("no tables to publish")
    bare = [n.split(".", 1)[-1] for n in names]
    if len(set(bare)) != len(bare):
        raise ValueError(f"table names repeat across schemas: {names}")
    return names


def _unchanged(
    published_dir: Path, latest: dict[str, Any], reason: str, pin: dict[str, Any] | None = None
) -> PublishResult:
    """Nothing written: report what BI sees now (the current snapshot)."""
    version = latest["version"]
    manifest = read_manifest(published_dir, version)
    snap = snapshots_dir(published_dir) / version
    return PublishResult(
        version=version,
        changed=False,
        catalog_path=published_dir / CATALOG_NAME,
        latest_path=published_dir / LATEST_NAME,
        row_counts={t: i["rows"] for t, i in manifest["tables"].items()},
        reason=reason,
        snapshot_dir=snap,
        manifest_path=snap / MANIFEST_NAME,
        pin=pin,
    )


def _source_hashes(
    conn: duckdb.DuckDBPyConnection,
    plans: list[TablePlan],
    current: dict[str, Any] | None = None,
    row_stamps: Mapping[str, str] | None = None,
) -> tuple[
    dict[str, dict[str, Partial]], dict[str, tuple[int, str]], dict[str, dict[str, Any] | None]
]:
    """The source hash of every month (one part for other tables), each table's rows and
    content hash, and the row stamps behind them. One pass per table; a table named in
    `row_stamps` hashes only the months whose row count or largest stamp differ from the
    current snapshot's (stamps.py)."""
    parts, sources = {}, {}
    for p in plans:
        parts[p.table], sources[p.table] = stamps.table_parts(
            conn, p, current, (row_stamps or {}).get(p.table)
        )
    hashes = {}
    for p in plans:
        whole = combine(parts[p.table].values())
        hashes[p.table] = (whole[0], digest(p.columns, whole))
    return parts, hashes, sources


def _current(
    published_dir: Path, latest: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, Path | None]:
    """The manifest and folder of the snapshot BI reads now (None, None: none yet)."""
    if latest is None:
        return None, None
    return (
        read_manifest(published_dir, latest["version"]),
        snapshots_dir(published_dir) / latest["version"],
    )


def _header(
    version: str, run_id: str, git_commit: str | None, source_schema: str, check_results: Any
) -> dict[str, Any]:
    """The manifest's fields other than its tables."""
    return {
        "format": FORMAT,
        "version": version,
        "run_id": run_id,
        "created_at": _now(),
        "git_commit": git_commit,
        "duckdb_version": duckdb.__version__,
        "source_schema": source_schema,
        "check_results": check_results,
    }


def _commit(
    published_dir: Path, staging: Path, manifest: dict[str, Any], latest: dict[str, Any] | None
) -> tuple[Path, dict[str, Any]]:
    """Steps 3-6: rename the staged snapshot into snapshots/, then the catalog and latest.json.
    Not committed (an error before latest.json names it): the snapshot is taken away again.
    Returns the snapshot folder and the new latest.json."""
    version = manifest["version"]
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
    return final, new_latest


def _prune_after(published_dir: Path, new_latest: dict[str, Any], keep: int) -> list[str]:
    """Step 7; a failure only warns: published already, a later run prunes again."""
    version = new_latest["version"]
    try:
        return prune(published_dir, new_latest, keep, catalog_at=version)
    except OSError as exc:
        log.warning("publish %s: pruning old snapshots failed: %s", version, exc)
        return []


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
    row_stamps: Mapping[str, str] | None = None,
    read_bytes: bool = False,
) -> PublishResult:
    """Publish `source_schema.<table>` for every table as a new immutable snapshot and point
    the BI catalog and latest.json at it. Idempotent: a run that already published, or
    content identical to the current snapshot, publishes nothing (changed=False).
    `row_stamps` (table -> a column every write of a row raises): those tables' months whose
    row count and largest stamp are unchanged keep the current snapshot's hash (stamps.py).
    `read_bytes`: every file linked from the current snapshot is read again for its sha256,
    not only those whose stat cannot vouch for them (filecheck.py)."""
    names = _table_names(tables, keep)
    published_dir = Path(published_dir).resolve()
    with publish_lock(published_dir):
        try:
            latest = _prepare(published_dir)
            pin = read_pin(published_dir)
            if pin is not None and latest is not None:
                # a rollback holds BI here until a release
                return _unchanged(published_dir, latest, "pinned", pin)
            done = run_version(latest, run_id)
            if done is not None and done in snapshot_versions(published_dir):
                return _unchanged(published_dir, latest, "run already published")

            plans = [plan_table(conn, t, source_schema, partition_by) for t in names]
            current, current_dir = _current(published_dir, latest)
            parts, hashes, sources = _source_hashes(conn, plans, current, row_stamps)
            docs = dbt_descriptions(
                Path(dbt_manifest) if dbt_manifest else None, [p.table for p in plans]
            )
            if current is not None and _same_content(current, plans, hashes, docs):
                return _unchanged(published_dir, latest, "content unchanged")

            version = new_version(run_id, snapshot_versions(published_dir))
            header = _header(version, run_id, git_commit, source_schema, check_results)
            staging = tmp_area(published_dir) / f"snap-{version}"
            manifest = _write_snapshot(
                conn, plans, parts, docs, staging, header, current, current_dir, sources, read_bytes
            )
            final, new_latest = _commit(published_dir, staging, manifest, latest)
            return PublishResult(
                version=version,
                changed=True,
                catalog_path=published_dir / CATALOG_NAME,
                latest_path=published_dir / LATEST_NAME,
                row_counts={t: i["rows"] for t, i in manifest["tables"].items()},
                reason="published",
                snapshot_dir=final,
                manifest_path=final / MANIFEST_NAME,
                pruned=_prune_after(published_dir, new_latest, keep),
            )
        finally:
            clear_tmp(published_dir, remove_dir=True)


def rollback(published_dir: Path | str, version: str | None = None, *, pin: bool = True) -> str:
    """Point latest.json and the catalog at a kept snapshot (None: the one before the current
    version) and, unless pin=False, pin it there: publish() then publishes nothing until
    release(). Returns the version now current."""
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
                    f"unknown snapshot version {version!r}; kept: {', '.join(kept) or 'none'}"
                )
            else:
                target = version
            if target != current:
                _point_pointers(
                    published_dir, read_manifest(published_dir, target), latest, "rollback"
                )
            if pin:
                write_pin(
                    published_dir,
                    {
                        "version": target,
                        "at": _now(),
                        "action": "rollback",
                        "previous_version": current,
                    },
                )
            return target
        finally:
            clear_tmp(published_dir, remove_dir=True)


def release(published_dir: Path | str) -> dict[str, Any] | None:
    """Remove a rollback's pin: the next publish() publishes again when its content differs
    from what BI reads. Returns the pin removed (None: nothing was pinned)."""
    published_dir = Path(published_dir).resolve()
    if not published_dir.exists():
        return None
    with publish_lock(published_dir):
        try:
            return remove_pin(published_dir)
        finally:
            clear_tmp(published_dir, remove_dir=True)


def pinned(published_dir: Path | str) -> dict[str, Any] | None:
    """The rollback pin in force, if any."""
    return read_pin(Path(published_dir))


def current_version(published_dir: Path | str) -> str | None:
    """The version latest.json names (what the catalog shows once any repair has run)."""
    latest = read_latest(Path(published_dir))
    return latest["version"] if latest else None


def list_snapshots(published_dir: Path | str) -> list[str]:
    """Kept, committed snapshot versions, oldest first."""
    published_dir = Path(published_dir)
    return committed_versions(published_dir, read_latest(published_dir))


__all__ = [
    "DEFAULT_KEEP",
    "PublishError",
    "PublishResult",
    "PublishStateError",
    "UnknownVersionError",
    "current_version",
    "list_snapshots",
    "pinned",
    "publish",
    "release",
    "rollback",
]
