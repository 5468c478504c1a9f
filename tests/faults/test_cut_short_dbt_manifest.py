"""Fault: a refresh hit a full disk while dbt was writing target/manifest.json.

Seen by hand (tmpfs home, 3 MB left free): the manifest was left cut short, and every later
`warehouse run` died loading the definitions (JSONDecodeError: unexpected end of data), space
or no space. Loading the definitions now has dagster-dbt's preparer parse the project again
when the manifest does not read as a whole JSON document (and drops dbt's partial-parse state
beside it); a whole, up-to-date manifest is not parsed again."""

from __future__ import annotations

import json
import os

from pipelines.defs.dbt import warehouse_dbt_project
from pipelines.settings import load_settings


def test_a_cut_short_manifest_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAREHOUSE_PII_KEY", "manifest-test")
    settings = load_settings()
    manifest = warehouse_dbt_project(settings).manifest_path  # a fresh home: parsed
    assert manifest == settings.dbt_target_dir / "manifest.json"
    whole = manifest.read_bytes()
    json.loads(whole)
    stamp = manifest.stat().st_mtime_ns
    warehouse_dbt_project(settings)
    assert manifest.stat().st_mtime_ns == stamp  # no needless parse

    manifest.write_bytes(whole[: len(whole) // 2])  # what the full disk left
    (manifest.parent / "partial_parse.msgpack").write_bytes(b"\x93cut")
    os.utime(manifest, ns=(stamp, stamp))  # as new as before: only its content is wrong
    again = warehouse_dbt_project(settings).manifest_path
    assert json.loads(again.read_bytes())["nodes"]
