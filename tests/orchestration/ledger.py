"""A working database with ledger and quarantine rows written by hand (no landing run), in the
shape the crash-safe landing gives them: statuses superseded/ignored, superseded_by and retry."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.landing import ensure_schema

T0 = datetime(2026, 11, 20, 2, 0, 0)


def vid(path: str, n: int) -> str:
    return f"v-{path}-{n}"


# path, version, status, message, hours after T0, superseded_by (version), retry
LEDGER = [
    ("inspections/a.csv", 1, "failed", "empty file (0 bytes)", 0, 2, False),
    ("inspections/a.csv", 2, "loaded", None, 24, None, False),
    ("disputes/b.xlsx", 1, "failed", "not a readable xlsx workbook", 0, None, False),
    ("traffic/c.csv", 1, "failed", "still being written (size changed while read)", 24, None, True),
    ("traffic/d.csv", 1, "failed", "no recognisable header", 0, 2, False),
    ("traffic/d.csv", 2, "failed", "no recognisable header (again)", 24, None, False),
    ("inspections/e.csv", 1, "loaded", None, 0, 2, False),
    ("inspections/e.csv", 2, "superseded", None, 24, None, False),
    ("reference/notes.txt", 1, "ignored", None, 0, None, False),
]

QUARANTINE = [
    # stage, record_type, source_path, sheet, line, reason, message, raw_values
    (
        "landing",
        "inspections",
        "inspections/e.csv",
        None,
        5,
        "bad_date",
        "inspections/e.csv line 5: field inspected_on value '2022-02-30' is not a date",
        '{"派出所": "古林所"}',
    ),
    (
        "landing",
        "inspections",
        "inspections/e.csv",
        None,
        6,
        "bad_count",
        "inspections/e.csv line 6: field hazards_found value '若干' is not a number",
        '{"派出所": "横河所"}',
    ),
    (
        "landing",
        "disputes",
        "disputes/b.xlsx",
        None,
        None,
        "file_failed",
        "disputes/b.xlsx: not a readable xlsx workbook",
        None,
    ),
    (
        "model",
        "inspections",
        "inspections/e.csv",
        None,
        7,
        "unknown_station",
        "unknown station '东郊所'",
        '{"station": "东郊所"}',
    ),
    (
        "model",
        "inspections",
        "inspections/e.csv",
        None,
        8,
        "unknown_station",
        "unknown station '东郊所'",
        '{"station": "东郊所"}',
    ),
    (
        "model",
        "traffic",
        "traffic/x.xlsx",
        "Sheet2",
        3,
        "unknown_station",
        "unknown station '东郊所'",
        '{"unit": "东郊所"}',
    ),
    (
        "model",
        "traffic",
        "traffic/x.xlsx",
        "Sheet2",
        4,
        "unmapped_value",
        "unmapped violation '乱停车'; unmapped action '口头'",
        '{"unit": "古林所"}',
    ),
]


def build_ops(path: Path) -> Path:
    """ops.* with the rows above (the ledger's upgrade from older columns is tested in
    tests/landing)."""
    with duckdb.connect(str(path)) as conn:
        ensure_schema(conn)
        for p, n, status, message, hours, superseded, retry in LEDGER:
            seen = T0 + timedelta(hours=hours)
            columns = [
                "file_version_id",
                "path",
                "sha256",
                "record_type",
                "status",
                "error_message",
                "first_seen_at",
                "loaded_at",
                "run_id",
                "rows_read",
                "rows_landed",
                "rows_quarantined",
                "lines_skipped",
                "superseded_by",
                "retry",
                "current_since",
            ]
            values = [
                vid(p, n),
                p,
                f"sha-{p}-{n}",
                p.split("/")[0],
                status,
                message,
                seen,
                seen,
                f"run-{hours}",
                10 if status == "loaded" else 0,
                8 if status == "loaded" else 0,
                2 if status == "loaded" else 0,
                0,
                vid(p, superseded) if superseded else None,
                retry,
                seen,
            ]
            conn.execute(
                f"INSERT INTO ops.file_ledger ({', '.join(columns)}) VALUES "
                f"({', '.join('?' for _ in values)})",
                values,
            )
        for i, (stage, rt, source, sheet, line, reason, message, raw) in enumerate(QUARANTINE):
            conn.execute(
                "INSERT INTO ops.quarantine (quarantine_id, stage, record_type, source_path, "
                "file_sha256, sheet, line_number, reason_code, message, raw_values, run_id, "
                "quarantined_at) VALUES (?, ?, ?, ?, 'sha', ?, ?, ?, ?, ?, 'run-24', ?)",
                [f"q{i}", stage, rt, source, sheet, line, reason, message, raw, T0],
            )
    return path


HOLD_REFRESH = """
import sys, duckdb
from pipelines import runstate
home = sys.argv[1]
lock = runstate.acquire_writer(home, run_id="held-run-1", command="warehouse run")
conn = duckdb.connect(home + "/warehouse.duckdb")  # what a refresh does: write the database
conn.execute("CREATE TABLE IF NOT EXISTS main.refresh_was_here AS SELECT 1 AS x")
print("holding", flush=True)
sys.stdin.read()  # until the test closes stdin
conn.close()
lock.release()
"""


class HeldRefresh:
    """A process that does what a running refresh does: holds the writer lock and the working
    database open for writing, until stop()."""

    def __init__(self, home: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD_REFRESH, str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        line = self.proc.stdout.readline()
        assert line.strip() == "holding", self.proc.stderr.read()

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
