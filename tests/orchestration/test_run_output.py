"""`warehouse run` on the committed sample, as an operator sees it: one line per
stage then the summary, well under 60 lines, no colour codes in a pipe, the PII-key warning once,
the full Dagster and dbt logs in WAREHOUSE_HOME/logs/<run id>.log. (--verbose, which streams
them too, is what tests/e2e/test_kill_during_refresh.py watches dbt's progress with; "nothing
new to publish" is in tests/publish/test_dagster_asset.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
WAREHOUSE = Path(sys.executable).with_name("warehouse")
REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[")


def _run(args, raw: Path, home: Path):
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_PII_KEY"}
    env.update(WAREHOUSE_RAW_DIR=str(raw), WAREHOUSE_HOME=str(home))
    return subprocess.run(
        [str(WAREHOUSE), *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_sample_run_prints_stages_and_summary_and_logs_everything(tmp_path):
    raw, home = tmp_path / "raw", tmp_path / "home"
    shutil.copytree(REPO / "raw", raw)
    first = _run(["run"], raw, home)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    lines = out.splitlines()
    assert len(lines) < 60, out
    assert not ANSI.search(out + first.stderr)
    assert first.stderr.count("WAREHOUSE_PII_KEY not set") == 1, first.stderr
    assert "Traceback" not in out + first.stderr
    # one line per stage, in order, with counts and a time
    stages = [
        line.split()[0]
        for line in lines
        if re.match(
            r"^(landing|dbt|quarantine|checks|"
            r"publish)\s",
            line,
        )
    ]
    assert [s for i, s in enumerate(stages) if s not in stages[:i]] == [
        "landing",
        "dbt",
        "quarantine",
        "checks",
        "publish",
    ]
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        files, by_status, read, landed, quarantined = conn.execute("""
            SELECT count(*), map(list(status), list(n)), sum(r), sum(l), sum(q) FROM (
                SELECT status, count(*) AS n, sum(rows_read) AS r, sum(rows_landed) AS l,
                       sum(rows_quarantined) AS q
                FROM ops.file_ledger GROUP BY status)""").fetchone()
    files = sum(by_status.values())
    assert re.search(
        rf"^landing\s+{files} files: {by_status.get('loaded', 0)} loaded, "
        rf"{by_status.get('failed', 0)} failed, {by_status.get('duplicate', 0)} duplicate, "
        rf"0 unchanged; rows: {read} read, {landed} landed, {quarantined} quarantined "
        rf"\(\d+\.\d s\)$",
        out,
        re.M,
    ), out
    assert by_status.get("failed") == 5 and read == landed + quarantined
    assert re.search(r"^checks\s+(\d+) checks: ", out, re.M)
    # the summary: the same check count as the stage line and the HTML report
    stage_count = re.search(r"^checks\s+(\d+ checks: [^(]+) \(", out, re.M).group(1)
    assert f"checks: {stage_count};" in out
    run_id = re.search(
        r"^run (\S+): succeeded with failures \(5 file\(s\) set aside\)$", out, re.M
    ).group(1)
    report = (home / "reports" / run_id / "report.html").read_text(encoding="utf-8")
    assert stage_count in report
    log = home / "logs" / f"{run_id}.log"
    assert f"full log: {log}" in out
    text = log.read_text(encoding="utf-8")
    assert "STEP_START" in text and "ASSET_CHECK_EVALUATION" in text  # Dagster, every event
    assert re.search(r"\d+ of \d+ START sql", text)  # dbt, every node
    assert not ANSI.search(text)
    assert len(text.splitlines()) > 10 * len(lines)
    assert re.search(r"^published: version \S+ \(catalog ", out, re.M), out
    # the bulletins stage line and the summary give the same count
    staged = re.search(r"^bulletins\s+(\d+) written \(\d+\.\d s\)$", out, re.M)
    assert staged and f"bulletins: {staged.group(1)} written in " in out, out

    # a UI started now (its file sensor has no cursor yet) launches no refresh: the run's
    # landing recorded what the drop zone looked like
    import dagster as dg

    from pipelines.defs.resources import WarehouseResource
    from pipelines.defs.sensors import raw_files_sensor

    warehouse = WarehouseResource(raw_dir=str(raw), home=str(home))
    with dg.build_sensor_context(cursor=None, resources={"warehouse": warehouse}) as context:
        assert isinstance(raw_files_sensor(context), dg.SkipReason)
