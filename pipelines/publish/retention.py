"""Which snapshots exist, which are referenced, and pruning the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.publish.bulletins import prune_bulletins
from pipelines.publish.catalog import catalog_version
from pipelines.publish.fsutil import remove_tree, tmp_area
from pipelines.publish.manifest import (
    CATALOG_NAME,
    MANIFEST_NAME,
    published_versions,
    snapshots_dir,
)
from pipelines.publish.snapshot import is_version


def snapshot_versions(published_dir: Path) -> list[str]:
    """Whole snapshot folders on disk, oldest first. A folder only ever appears here by an
    atomic rename of a complete, fsynced temp folder holding its manifest."""
    root = snapshots_dir(published_dir)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and is_version(p.name) and (p / MANIFEST_NAME).exists()
    )


def committed_versions(published_dir: Path, latest: dict[str, Any] | None) -> list[str]:
    """Snapshots that latest.json pointed at at some time (publish or rollback targets)."""
    published = published_versions(latest)
    return [v for v in snapshot_versions(published_dir) if v in published]


def orphan_versions(published_dir: Path, latest: dict[str, Any] | None) -> list[str]:
    """Snapshots renamed into place by a run killed before its commit (latest.json never
    named them). Without any latest.json nothing is called an orphan."""
    if latest is None:
        return []
    published = published_versions(latest)
    return [v for v in snapshot_versions(published_dir) if v not in published]


def referenced_versions(
    published_dir: Path, latest: dict[str, Any] | None, catalog_at: str | None = None
) -> set[str] | None:
    """Versions something points at: latest.json and the catalog file (`catalog_at` when the
    caller just wrote it). None when the catalog exists but cannot be read (then nothing may
    be pruned)."""
    refs = {latest["version"]} if latest else set()
    catalog = published_dir / CATALOG_NAME
    if catalog_at is None and catalog.exists():
        catalog_at = catalog_version(catalog)
        if catalog_at is None:
            return None
    if catalog_at is not None:
        refs.add(catalog_at)
    return refs


def remove_orphans(
    published_dir: Path, latest: dict[str, Any] | None, catalog_at: str | None = None
) -> list[str]:
    if not orphan_versions(published_dir, latest):
        return []
    refs = referenced_versions(published_dir, latest, catalog_at)
    if refs is None:
        return []
    removed = []
    for version in orphan_versions(published_dir, latest):
        if version in refs:
            continue
        remove_tree(snapshots_dir(published_dir) / version, tmp_area(published_dir))
        removed.append(version)
    return removed


def prune(
    published_dir: Path, latest: dict[str, Any] | None, keep: int, catalog_at: str | None = None
) -> list[str]:
    """Keep the newest `keep` published snapshots and every referenced one; remove the rest
    (each by one rename out of snapshots/, then deletion in the temp area), and the bulletins
    of every version whose snapshot is gone."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    versions = committed_versions(published_dir, latest)
    removed = []
    refs = referenced_versions(published_dir, latest, catalog_at) if len(versions) > keep else None
    if refs is not None:
        kept = set(versions[-keep:]) | refs
        for version in versions:
            if version not in kept:
                remove_tree(snapshots_dir(published_dir) / version, tmp_area(published_dir))
                removed.append(version)
    # bulletins go with their snapshot (and leftovers of dead bulletin writers)
    prune_bulletins(published_dir, set(snapshot_versions(published_dir)))
    return removed
