"""Landing progress: the landing library reports files done / files to do through the optional
`progress` callback; the landing asset logs it every few seconds for `warehouse run`."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.landing import LandingProgress
from pipelines.landing import ensure_schema, land_record_types
from pipelines.runlog import parse_progress, progress_message
from pipelines.settings import RECORD_TYPES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_land_record_types_reports_every_file_done(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw", raw)
    files = sum(1 for rt in RECORD_TYPES for p in (raw / rt).rglob("*") if p.is_file())
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            calls.append((done, total))

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ensure_schema(conn)
        land_record_types(conn, raw, RECORD_TYPES, "run-1", threads=2, progress=progress)
        again: list[tuple[int, int]] = []
        land_record_types(
            conn, raw, RECORD_TYPES, "run-2", progress=lambda d, t: again.append((d, t))
        )
    assert calls[0] == (0, files)
    assert sorted(d for d, _ in calls) == list(range(files + 1))
    assert {t for _, t in calls} == {files}
    assert again[0] == (0, files) and again[-1] == (files, files)  # unchanged files count too


class _Log:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_the_asset_logs_progress_every_few_seconds_not_per_file():
    now = [0.0]
    log = _Log()
    progress = LandingProgress(log, every_s=5.0, clock=lambda: now[0])
    for done in range(0, 1001):
        now[0] = done * 0.02  # 50 files a second: 20 s in all
        progress(done, 1000)
    parsed = [parse_progress(line) for line in log.lines]
    assert [p[1] for p in parsed] == [0, 250, 500, 750, 1000]
    assert all(p[0] == "landing" and p[2] == 1000 and p[3] == "files" for p in parsed)
    assert parse_progress(progress_message("landing", 3, 9, "files")) == ("landing", 3, 9, "files")
