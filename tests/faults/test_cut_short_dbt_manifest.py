"""Fault: a refresh hit a full disk while dbt was writing target/manifest.json.

Seen by hand (tmpfs home, 3 MB left free): the manifest was left cut short, and every later
`warehouse run` died loading the definitions (JSONDecodeError: unexpected end of data), space
or no space. ensure_manifest() now parses the project again when the manifest does not read
as a whole JSON document (and drops dbt's partial-parse state beside it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.defs.dbt import ensure_manifest

REPO = Path(__file__).resolve().parents[2]


def test_a_cut_short_manifest_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAREHOUSE_PII_KEY", "manifest-test")
    project = DbtProject(project_dir=REPO / "dbt_project", profiles_dir=REPO / "dbt_project")
    target = tmp_path / "target"
    manifest = ensure_manifest(project, target)
    whole = manifest.read_bytes()
    json.loads(whole)
    stamp = manifest.stat().st_mtime_ns
    assert ensure_manifest(project, target).stat().st_mtime_ns == stamp  # no needless parse

    manifest.write_bytes(whole[: len(whole) // 2])  # what the full disk left
    (target / "partial_parse.msgpack").write_bytes(b"\x93cut")
    os.utime(manifest, ns=(stamp, stamp))  # as new as before: only its content is wrong
    again = ensure_manifest(project, target)
    assert json.loads(again.read_bytes())["nodes"]
