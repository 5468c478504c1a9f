"""Smoke test of the benchmark's baselines on a tiny fabricated corpus (no Dagster job here)."""

from __future__ import annotations

import sys

import duckdb

from bench import limit, pandas_script, run
from bench.fabricate import fabricate
from bench.measure import run_measured


def test_limit_and_pandas_read_the_same_rows(tmp_path):
    raw = tmp_path / "raw"
    expected = fabricate(raw, stations=3, days=3, rows_per_day=25)

    a = limit.run(raw, tmp_path / "a")
    b = pandas_script.run(raw, tmp_path / "b")

    assert a["rows_by_type"] == b["rows_by_type"] == expected
    assert a["files"]["duplicate"] == 1 and a["files"]["failed"] == 1
    assert a["files"]["transcoded"] > 0 and a["files"]["xlsx_sheets"] == 1
    for rt, n in expected.items():
        for out in ("a", "b"):
            path = tmp_path / out / f"{rt}.parquet"
            count = duckdb.sql(f"SELECT count(*) FROM '{path}'").fetchall()[0][0]
            assert count == (n if out == "a" else b["rows_out_by_type"][rt])
    # latest export wins: the cumulative inspections exports repeat earlier rows
    assert b["rows_out_by_type"]["inspections"] < expected["inspections"]
    assert b["rows_out_by_type"]["traffic"] == expected["traffic"]


def test_measured_subprocess_reports_wall_and_memory(tmp_path):
    m = run_measured(
        [sys.executable, "-c", "x = bytearray(64 * 2**20); x[::4096] = b'1' * len(x[::4096])"],
        log=tmp_path / "log",
    )
    assert m.returncode == 0
    assert m.peak_mib >= 64


def test_report_ratios_and_targets():
    summary = {
        "a": {"wall_s": 10.0, "peak_mib": 500.0, "rows": 1000, "ok": True},
        "b": {"wall_s": 60.0, "peak_mib": 900.0, "rows": 1000, "ok": True},
        "c": {"wall_s": 15.0, "peak_mib": 1200.0, "rows": 1000, "ok": True},
        "d": {"wall_s": 0.5, "peak_mib": 800.0, "rows": 10, "ok": True},
    }
    rat = run.ratios(summary)
    assert rat == {"c/a": 1.5, "c/b": 0.25, "d/c": 0.5 / 15}
    rows = [
        ("fixed start-up (job process)", 8.0),
        ("  of which before RUN_START", 2.0),
        ("  of which outside dbt's own elapsed", 3.0),
    ]
    assert run.startup_total(rows)[0] == 13.0
    verdicts = {name: v for name, v, _ in run.targets(summary, rat, rows)}
    assert set(verdicts.values()) == {"PASS"}
    assert any("rows/s" in line for line in run.table_lines(summary))


def test_rss_cap_kills_the_contender(tmp_path):
    m = run_measured(
        [
            sys.executable,
            "-c",
            "import time; x = bytearray(300 * 2**20); "
            "x[::4096] = b'1' * len(x[::4096]); time.sleep(30)",
        ],
        log=tmp_path / "log",
        rss_cap_mib=100,
    )
    assert m.capped and m.returncode != 0 and m.wall_s < 20


def test_night_files_land_beside_the_history(tmp_path):
    from bench.corpus import link_night, link_tree

    history, night, raw = tmp_path / "history", tmp_path / "night", tmp_path / "raw"
    for root, text in ((history, "old"), (night, "new")):
        (root / "traffic" / "所").mkdir(parents=True)
        (root / "traffic" / "所" / "第1期.csv").write_text(text)
    (night / "traffic" / "所" / "20221107.csv").write_text("new day")
    (history / "reference").mkdir()
    (history / "reference" / "stations.csv").write_text("ref")
    nextday = tmp_path / "nextday"
    assert link_night(night, history, nextday) == 2
    assert link_tree(history, raw) == 2
    link_tree(nextday, raw, ("traffic",))
    names = sorted(p.name for p in (raw / "traffic" / "所").iterdir())
    assert names == ["20221107.csv", "夜间_第1期.csv", "第1期.csv"]
    assert (raw / "traffic" / "所" / "第1期.csv").read_text() == "old"


def test_step_keys_map_to_stages():
    from bench.nightly import stage_of

    assert [
        stage_of(k)
        for k in (
            "land_raw_exports",
            "dbt_warehouse",
            "ops__quarantine",
            "validate_marts",
            "published__catalog",
        )
    ] == ["landing", "dbt", "quarantine sync", "checks", "publish"]


def test_a_failed_night_of_the_sweep_is_no_measurement():
    """The city sweep's 10x night failed part-way (disk full) and was reported as d10 = 193 s,
    d10/d1 = 4.77: a failed run must stay out of the figures and the targets."""
    from bench.sweep import figures

    def night(wall, code=0):
        return {"wall_s": wall, "returncode": code}

    results = {"c": night(186.6), "d1": night(40.5), "d3": night(63.1), "d10": night(193.4, 1)}
    measured = [(1, "d1"), (3, "d3"), (10, "d10")]
    ds, flat, share = figures(results, measured, [1, 3, 10])
    assert ds == {1: 40.5, 3: 63.1} and flat is None and share == 40.5 / 186.6

    results["d10"]["returncode"] = 0
    ds, flat, _ = figures(results, measured, [1, 3, 10])
    assert flat == 193.4 / 40.5
    results["c"]["returncode"] = 1
    assert figures(results, measured, [1, 3, 10])[2] is None
