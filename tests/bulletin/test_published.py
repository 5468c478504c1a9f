"""Reading the published catalog (missing, mid-swap), the bulletins of a version in
published/bulletins/ and latest.json, retention and rollback, the Dagster asset and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.bulletin import batch as batch_module
from pipelines.bulletin.batch import write_version_bulletins
from pipelines.bulletin.reader import CatalogUnavailable, open_catalog
from pipelines.defs import bulletin as bulletin_defs
from pipelines.defs.resources import WarehouseResource
from pipelines.publish import attach_bulletins, release, rollback, staging_dir
from pipelines.summary import _bulletin_lines
from tests.bulletin.catalog_fixture import make_published
from tests.publish.helpers import tree_digest

WAREHOUSE = Path(sys.executable).with_name("warehouse")
# C1 (all record types) and C2 (traffic) are both active on 2024-07-02, the last day with
# records: C1 for 甲市 and 乙市 and the bureaus with records, C2 for 甲市 and 甲分局.
EXPECTED = {
    ("C1", "city", "甲市"),
    ("C1", "city", "乙市"),
    ("C1", "bureau", "甲分局"),
    ("C1", "bureau", "乙县公安局"),
    ("C1", "bureau", "丙分局"),
    ("C2", "city", "甲市"),
    ("C2", "bureau", "甲分局"),
}


def _versions(published: Path) -> list[str]:
    return sorted(p.name for p in (published / "snapshots").iterdir())


def test_a_missing_catalog_is_retried_then_refused_in_one_line(tmp_path):
    started = time.monotonic()
    with (
        pytest.raises(CatalogUnavailable) as err,
        open_catalog(tmp_path / "published", attempts=3, delay=0.05),
    ):
        pass
    assert time.monotonic() - started >= 0.05 + 0.1  # waited between the attempts
    message = str(err.value)
    assert "\n" not in message and "after 3 attempt(s)" in message
    assert str(tmp_path / "published" / "catalog.duckdb") in message


def test_a_catalog_that_appears_while_retrying_is_read(tmp_path):
    timer = threading.Timer(0.3, make_published, args=(tmp_path,))
    timer.start()
    try:
        with open_catalog(tmp_path / "published", attempts=20, delay=0.05) as cat:
            version = cat.version
            assert cat.conn.execute("SELECT count(*) FROM marts.fct_inspections").fetchone()[0]
    finally:
        timer.join()
    assert version == _versions(tmp_path / "published")[0]


def _mid_swap(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """latest.json on the second version, catalog.duckdb still on the first (as between the
    two replaces of a publish). Returns published/, the second catalog, both versions."""
    published = make_published(tmp_path)
    first_catalog = tmp_path / "first.duckdb"
    shutil.copyfile(published / "catalog.duckdb", first_catalog)
    make_published(tmp_path, extra=True, run_id="run-2")
    second_catalog = tmp_path / "second.duckdb"
    shutil.copyfile(published / "catalog.duckdb", second_catalog)
    os.replace(first_catalog, published / "catalog.duckdb")
    first, second = _versions(published)
    return published, second_catalog, first, second


def test_a_catalog_mid_swap_is_retried_until_whole(tmp_path):
    published, second_catalog, _first, second = _mid_swap(tmp_path)
    timer = threading.Timer(0.3, os.replace, args=(second_catalog, published / "catalog.duckdb"))
    timer.start()
    try:
        with open_catalog(published, attempts=20, delay=0.05) as cat:
            assert cat.version == second
            # the figures are the second version's: its extra inspection is there
            assert (
                cat.conn.execute(
                    "SELECT count(*) FROM marts.fct_inspections WHERE inspection_id = 'JC3'"
                ).fetchone()[0]
                == 1
            )
    finally:
        timer.join()


def test_a_catalog_that_stays_a_step_behind_is_refused_never_half_read(tmp_path):
    published, _second_catalog, first, second = _mid_swap(tmp_path)
    with pytest.raises(CatalogUnavailable) as err, open_catalog(published, attempts=2, delay=0.01):
        pass
    assert f"catalog points at version {first} but latest.json at {second}" in str(err.value)


def test_bulletins_of_a_version_are_written_listed_and_left_alone_after(tmp_path):
    published = make_published(tmp_path, coverage="plain")
    result = write_version_bulletins(published)
    assert result.reason == "written" and result.listed and not result.failed
    assert {(w["campaign_id"], w["level"], w["unit"]) for w in result.written} == EXPECTED
    version = _versions(published)[0]
    latest = json.loads((published / "latest.json").read_text())
    listing = latest["bulletins"]
    assert listing["version"] == version == result.version
    assert len(listing["items"]) == len(EXPECTED)
    for item in listing["items"]:
        assert Path(item["html"]).is_file() and Path(item["text"]).is_file()
        assert item["period"]["kind"] == "whole"
        assert Path(item["html"]).parent == published.resolve() / "bulletins" / version
    before = tree_digest(published)
    again = write_version_bulletins(published)
    assert again.reason == "already written" and again.listed
    assert tree_digest(published) == before


def test_one_failing_bulletin_does_not_stop_the_others(tmp_path, monkeypatch):
    published = make_published(tmp_path)
    real = batch_module.build_bulletin

    def flaky(cat, campaign_id, unit, **kw):
        if unit == "乙市":
            raise RuntimeError("disk on fire")
        return real(cat, campaign_id, unit, **kw)

    monkeypatch.setattr(batch_module, "build_bulletin", flaky)
    result = write_version_bulletins(published)
    assert [(f["unit"], f["error"]) for f in result.failed] == [
        ("乙市", "RuntimeError: disk on fire")
    ]
    assert len(result.written) == len(EXPECTED) - 1
    listing = json.loads((published / "latest.json").read_text())["bulletins"]
    assert listing["failed"][0]["unit"] == "乙市"


def test_bulletins_follow_their_version_through_publish_rollback_and_pruning(tmp_path):
    published = make_published(tmp_path)
    write_version_bulletins(published)
    first = _versions(published)[0]
    make_published(tmp_path, extra=True, run_id="run-2")
    second = _versions(published)[1]
    latest = json.loads((published / "latest.json").read_text())
    assert latest["version"] == second and "bulletins" not in latest  # not written yet
    # a rollback points latest.json at the first version and at its bulletins again
    assert rollback(published, first) == first
    latest = json.loads((published / "latest.json").read_text())
    assert latest["bulletins"]["version"] == first
    assert all(Path(i["html"]).exists() for i in latest["bulletins"]["items"])
    # bulletins staged for a version latest.json no longer names land but are not listed
    staged = staging_dir(published, second)
    staged.mkdir(parents=True)
    (staged / "index.json").write_text(json.dumps({"items": [], "failed": []}))
    assert attach_bulletins(published, second, staged) is False
    assert (published / "bulletins" / second / "index.json").exists()
    assert json.loads((published / "latest.json").read_text())["bulletins"]["version"] == first
    # a dead writer's staging folder, and the bulletins of pruned snapshots, are removed
    dead = published / "bulletins" / f".staging-{second}-999999999"
    dead.mkdir()
    assert release(published)["version"] == first  # the rollback pinned it: unpin to publish
    make_published(tmp_path, run_id="run-3", keep=1, extra=True)  # differs from the first
    kept = _versions(published)
    assert len(kept) == 1
    assert sorted(p.name for p in (published / "bulletins").iterdir()) == []
    assert not dead.exists()


def _materialize(home: Path):
    return dg.materialize(
        [bulletin_defs.published_bulletins],
        resources={"warehouse": WarehouseResource(raw_dir=str(home / "raw"), home=str(home))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_the_asset_reports_failures_and_never_fails_its_step(tmp_path, monkeypatch):
    make_published(tmp_path)
    result = _materialize(tmp_path)
    assert result.success
    folder = tmp_path.resolve() / "published" / "bulletins" / _versions(tmp_path / "published")[0]
    assert _bulletin_lines(result) == [f"bulletins: {len(EXPECTED)} written in {folder}"]

    def broken(_published):
        raise OSError("No space left on device")

    monkeypatch.setattr(bulletin_defs, "write_version_bulletins", broken)
    result = _materialize(tmp_path)
    assert result.success  # the publish stands; the failure is reported, not raised
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["failed"].value == [
        "* *: OSError: No space left on device"
    ]
    lines = _bulletin_lines(result)
    assert lines[0].endswith("1 FAILED")
    assert lines[1] == "  bulletins FAILED: * *: OSError: No space left on device"


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WAREHOUSE), "bulletin", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home,
        env={**os.environ, "WAREHOUSE_HOME": str(home), "WAREHOUSE_PII_KEY": "test", **env},
    )


def test_cli_writes_the_page_and_the_text_and_says_no_to_bad_input(tmp_path):
    make_published(tmp_path)
    out = _cli(
        tmp_path, "--campaign", "C1", "--unit", "甲市", "--period", "first-month", "--out", "out"
    )
    assert out.returncode == 0, out.stderr
    html = tmp_path / "out" / "C1_甲市_20240601-20240630.html"
    text = html.with_suffix(".txt")
    assert html.is_file() and text.is_file()
    assert out.stdout.splitlines()[0] == text.read_text().strip()
    assert str(html) in out.stdout

    bad = _cli(tmp_path, "--campaign", "C1", "--unit", "北京")
    assert bad.returncode == 2
    [line] = [x for x in bad.stderr.splitlines() if x.startswith("error:")]
    assert "valid units: cities 乙市, 甲市" in line

    nopdf = _cli(
        tmp_path,
        "--campaign",
        "C2",
        "--unit",
        "甲市",
        "--out",
        "out",
        "--pdf",
        WAREHOUSE_CHROMIUM=str(tmp_path / "no-such-chromium"),
    )
    assert nopdf.returncode == 3
    assert "PDF not written: no headless Chromium found" in nopdf.stderr
    assert (tmp_path / "out" / "C2_甲市_20240701-20240702.html").is_file()
