"""Helpers for landing tests: an in-memory warehouse and writers for raw exports."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.landing import ensure_schema, land_record_type
from pipelines.landing.limits import Limits

INSPECTION_HEADER = (
    "检查编号,检查日期,派出所,场所名称,场所类型,发现隐患,督促整改,下发通知书,停业整改"
)


@pytest.fixture
def conn():
    c = duckdb.connect()
    ensure_schema(c)
    yield c
    c.close()


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "raw"
    path.mkdir()
    return path


def write(raw: Path, rel: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def write_xlsx(
    raw: Path,
    rel: str,
    sheets: dict[str, list[list]],
    merge_title: bool = False,
    date_cells: dict[tuple[str, int, int], object] | None = None,
) -> Path:
    """Rows are written as given; date_cells {(sheet, row0, col0): datetime} become real dates."""
    import xlsxwriter

    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if merge_title and r == 0 and c == 0:
                    ws.merge_range(0, 0, 0, 5, value)
                else:
                    ws.write(r, c, value)
        for (sheet, r, c), value in (date_cells or {}).items():
            if sheet == name:
                ws.write_datetime(r, c, value, date_format)
    wb.close()
    return path


# files written by a test are fresh: no settle interval (tests/faults/ tests the interval)
NO_SETTLE = Limits(settle_seconds=0)


def land(
    conn,
    raw: Path,
    record_type: str = "inspections",
    run_id: str = "run-1",
    limits: Limits = NO_SETTLE,
):
    return land_record_type(conn, raw, record_type, run_id, limits=limits)


def rows(conn, sql: str, *params) -> list[tuple]:
    return conn.execute(sql, list(params)).fetchall()


def ledger(conn) -> list[dict]:
    cur = conn.execute("SELECT * FROM ops.file_ledger ORDER BY path, first_seen_at")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def quarantine(conn) -> list[dict]:
    cur = conn.execute("SELECT * FROM ops.quarantine ORDER BY source_path, line_number")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def assert_conservation(conn) -> None:
    """Per ledger row: read = landed + quarantined, and the tables hold exactly those rows."""
    for row in ledger(conn):
        assert row["rows_read"] == row["rows_landed"] + row["rows_quarantined"], row["path"]
        if row["status"] not in ("loaded", "superseded"):  # superseded rows stay (lineage)
            assert row["rows_read"] == 0, row["path"]
            continue
        landed = 0
        for record_type in ("inspections", "disputes", "traffic"):
            landed += rows(
                conn,
                f"SELECT count(*) FROM landing.{record_type} "
                "WHERE _file_sha256 = ? AND _source_path = ?",
                row["sha256"],
                row["path"],
            )[0][0]
        held = rows(
            conn,
            "SELECT count(*) FROM ops.quarantine WHERE file_sha256 = ? "
            "AND source_path = ? AND reason_code <> 'file_failed'",
            row["sha256"],
            row["path"],
        )[0][0]
        assert (landed, held) == (row["rows_landed"], row["rows_quarantined"]), row["path"]
