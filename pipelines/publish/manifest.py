"""The per-snapshot manifest, `published/latest.json`, and dbt descriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.publish.fsutil import atomic_write_json, tmp_area

MANIFEST_NAME = "manifest.json"
LATEST_NAME = "latest.json"
CATALOG_NAME = "catalog.duckdb"
SNAPSHOTS_DIRNAME = "snapshots"
FORMAT = 1
HISTORY_KEEP = 200


class PublishStateError(RuntimeError):
    """published/ holds something this code cannot make sense of."""


def dbt_descriptions(manifest_path: Path | None, tables: list[str]) -> dict[str, dict[str, Any]]:
    """{table: {"description": str, "columns": {column: description}}} from a dbt
    target/manifest.json (nodes → columns → description). Missing file → {}."""
    if manifest_path is None or not Path(manifest_path).exists():
        return {}
    data = json.loads(Path(manifest_path).read_text())
    wanted = set(tables)
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for node in data.get("nodes", {}).values():
        name = node.get("alias") or node.get("name")
        if name not in wanted:
            continue
        # prefer models, then models in a schema called marts, over seeds/snapshots/tests
        rank = (node.get("resource_type") == "model") * 2 + (node.get("schema") == "marts")
        if name in found and found[name][0] >= rank:
            continue
        columns = {
            col.get("name", key).lower(): (col.get("description") or "").strip()
            for key, col in (node.get("columns") or {}).items()
        }
        found[name] = (
            rank,
            {
                "description": (node.get("description") or "").strip(),
                "columns": {k: v for k, v in columns.items() if v},
            },
        )
    return {name: value for name, (_rank, value) in found.items()}


def snapshots_dir(published_dir: Path) -> Path:
    return published_dir / SNAPSHOTS_DIRNAME


def manifest_path(published_dir: Path, version: str) -> Path:
    return snapshots_dir(published_dir) / version / MANIFEST_NAME


def read_manifest(published_dir: Path, version: str) -> dict[str, Any]:
    path = manifest_path(published_dir, version)
    if not path.exists():
        raise PublishStateError(f"snapshot {version} has no manifest at {path}")
    return json.loads(path.read_text())


def read_latest(published_dir: Path) -> dict[str, Any] | None:
    path = published_dir / LATEST_NAME
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:  # never happens with atomic replaces; say so loudly
        raise PublishStateError(f"{path} is not valid JSON: {exc}") from exc


def table_glob(snapshot_dir: Path, table: str) -> str:
    return str(snapshot_dir / table / "**" / "*.parquet")


def build_latest(
    published_dir: Path,
    manifest: dict[str, Any],
    *,
    action: str,
    at: str,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """latest.json: what tools that read Parquet directly need, with absolute paths."""
    version = manifest["version"]
    snap = snapshots_dir(published_dir).resolve() / version
    history = list((previous or {}).get("history", []))
    history.append(
        {"version": version, "action": action, "run_id": manifest.get("run_id"), "at": at}
    )
    on_disk = {p.name for p in snapshots_dir(published_dir).glob("*")}
    # keep the tail, plus every entry whose snapshot is still on disk (it proves that the
    # snapshot was published once: see retention.committed_versions)
    history = [
        h
        for i, h in enumerate(history)
        if i >= len(history) - HISTORY_KEEP or h["version"] in on_disk
    ]
    from pipelines.publish.bulletins import bulletins_entry  # (it imports this module)

    bulletins = bulletins_entry(published_dir, version)  # kept ones, after a rollback
    return {
        "format": FORMAT,
        "version": version,
        "run_id": manifest.get("run_id"),
        "created_at": manifest.get("created_at"),
        "pointed_at": at,
        "action": action,
        "snapshot_dir": str(snap),
        "manifest": str(snap / MANIFEST_NAME),
        "catalog": str(published_dir.resolve() / CATALOG_NAME),
        "tables": {
            name: {
                "schema": info.get("schema", "marts"),
                "rows": info["rows"],
                "content_sha256": info["content_sha256"],
                "partitioned_by": info.get("partitioned_by"),
                "glob": table_glob(snap, name),
                "files": [str(snap / name / f["path"]) for f in info["files"]],
            }
            for name, info in manifest["tables"].items()
        },
        "history": history,
        **({"bulletins": bulletins} if bulletins else {}),
    }


def write_latest(published_dir: Path, payload: dict[str, Any]) -> None:
    atomic_write_json(published_dir / LATEST_NAME, payload, tmp_area(published_dir))


def published_versions(latest: dict[str, Any] | None) -> set[str]:
    """Every version latest.json was ever pointed at (within the kept history)."""
    if not latest:
        return set()
    return {h["version"] for h in latest.get("history", [])} | {latest["version"]}


def run_version(latest: dict[str, Any] | None, run_id: str) -> str | None:
    """The version this run published, if it published one."""
    for entry in reversed((latest or {}).get("history", [])):
        if entry.get("action") == "publish" and entry.get("run_id") == run_id:
            return entry["version"]
    return None
