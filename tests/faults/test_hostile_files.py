"""Files built to hurt the parser (issue: no file takes the night down): each lands in a forked
child, so a parser that aborted the interpreter would show as a killed child, not a passing
test. Every file gets a ledger row with its reason; rows of readable files are rejected one
by one, with their line; the good file beside them always lands."""

from __future__ import annotations

import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pipelines.landing.limits import Limits
from tests.faults.conftest import land_forked, ledger, query

HEADER = "检查编号,检查日期,派出所,场所名称,场所类型,发现隐患,督促整改,下发通知书,停业整改\n"
GOOD = HEADER + "G1,2022-07-15,古林派出所,好店,小商店,1,1,0,否\n"


def write(raw: Path, rel: str, data: str | bytes) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def xlsx(path: Path, sheet_xml: str, *, compress: int = zipfile.ZIP_DEFLATED) -> Path:
    """A minimal workbook with one worksheet of the given XML."""
    ns = 'xmlns="http://schemas.openxmlformats.org/'
    parts = {
        "[Content_Types].xml": f'<Types {ns}package/2006/content-types"><Default Extension='
        '"rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet'
        '+xml"/></Types>',
        "_rels/.rels": f'<Relationships {ns}package/2006/relationships"><Relationship Id="r1"'
        ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {ns}spreadsheetml/2006/main" xmlns:r="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="数据" '
        'sheetId="1" r:id="r1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships {ns}package/2006/relationships">'
        '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return path


def sheet(rows: str, dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{rows}</sheetData></worksheet>"
    )


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER_ROW = (
    '<row r="1">'
    + "".join(
        cell(f"{c}1", h)
        for c, h in zip(
            "ABCDE", ("检查编号", "检查日期", "派出所", "场所名称", "场所类型"), strict=True
        )
    )
    + "</row>"
)


@pytest.fixture
def raw(tmp_path) -> Path:
    path = tmp_path / "raw"
    write(path, "inspections/good.csv", GOOD)
    return path


def assert_good_landed(db: Path) -> None:
    assert ledger(db)["inspections/good.csv"]["status"] == "loaded"
    assert ("G1",) in query(db, "SELECT inspection_id FROM landing.inspections")


def test_an_xlsx_whose_cells_span_the_whole_sheet_fails_alone(raw, tmp_path):
    # one value at XFD1048576: python-calamine asks for 17 G cells and aborts the process
    xlsx(
        raw / "inspections/far.xlsx",
        sheet(HEADER_ROW + '<row r="1048576">' + cell("XFD1048576", "x") + "</row>"),
    )
    # a dimension declaring the whole sheet
    xlsx(raw / "inspections/declared.xlsx", sheet(HEADER_ROW, "A1:XFD1048576"))
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    found = ledger(db)
    assert found["inspections/far.xlsx"]["status"] == "failed"
    assert "17,179,869,184 cells" in found["inspections/far.xlsx"]["error_message"]
    assert found["inspections/declared.xlsx"]["status"] == "failed"
    assert "A1:XFD1048576" in found["inspections/declared.xlsx"]["error_message"]
    assert_good_landed(db)
    # set aside for good: not read again while its bytes stay the same
    assert land_forked(db, raw) == 0
    assert query(
        db, "SELECT count(*) FROM ops.file_ledger WHERE path = 'inspections/far.xlsx'"
    ) == [(1,)]


def test_a_zip_bomb_fails_alone(raw, tmp_path):
    xlsx(raw / "inspections/bomb.xlsx", sheet(HEADER_ROW + " " * 30_000_000))
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    assert "zip bomb" in ledger(db)["inspections/bomb.xlsx"]["error_message"]
    assert_good_landed(db)


@pytest.mark.parametrize("quoted", [False, True], ids=["fast reader", "line reader"])
def test_a_50_mb_field_sets_its_row_aside_with_its_line(raw, tmp_path, quoted):
    big = "x" * 50_000_000  # 50 MB in one cell
    venue = '"好店, 二号"' if quoted else "好店"
    write(
        raw,
        "inspections/big.csv",
        HEADER + f"B1,2022-07-15,古林派出所,{venue},小商店,1,1,0,否\n"
        f"B2,2022-07-15,古林派出所,{big},小商店,1,1,0,否\n"
        "B3,2022-07-15,古林派出所,三店,小商店,0,0,0,否\n",
    )
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    row = ledger(db)["inspections/big.csv"]
    assert (row["status"], row["rows_read"], row["rows_landed"], row["rows_quarantined"]) == (
        "loaded",
        3,
        2,
        1,
    )
    ((line, reason, message),) = query(
        db,
        "SELECT line_number, reason_code, message FROM "
        "ops.quarantine WHERE source_path = 'inspections/big.csv'",
    )
    assert (line, reason) == (3, "oversized_field")
    assert "场所名称 holds 50,000,000 characters" in message
    # the row is kept, not the megabytes
    ((kept,),) = query(db, "SELECT max(length(raw_values::VARCHAR)) FROM ops.quarantine")
    assert kept < 10_000


def test_an_unclosed_quote_sets_its_row_aside_not_the_file(raw, tmp_path):
    write(
        raw,
        "inspections/quote.csv",
        HEADER + "Q1,2022-07-15,古林派出所,好店,小商店,1,1,0,否\n"
        'Q2,2022-07-15,古林派出所,"坏店,小商店,1,1,0,否\n'
        "Q3,2022-07-15,古林派出所,三店,小商店,0,0,0,否\n",
    )
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    row = ledger(db)["inspections/quote.csv"]
    assert row["status"] == "loaded" and row["rows_landed"] == 1
    assert row["rows_read"] == row["rows_landed"] + row["rows_quarantined"]
    assert query(
        db,
        "SELECT line_number, reason_code FROM ops.quarantine WHERE "
        "source_path = 'inspections/quote.csv'",
    ) == [(3, "malformed_row")]


def test_a_fifo_is_never_opened(raw, tmp_path):
    os.mkfifo(raw / "inspections" / "pipe.csv")  # opening it would block the night forever
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    row = ledger(db)["inspections/pipe.csv"]
    assert (row["status"], row["retry"], row["error_message"]) == (
        "failed",
        True,
        "not a regular file",
    )
    assert_good_landed(db)


def test_a_file_that_vanished_is_recorded_and_tried_again(raw, tmp_path):
    os.symlink(tmp_path / "gone.csv", raw / "inspections" / "link.csv")
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw) == 0
    row = ledger(db)["inspections/link.csv"]
    assert row["status"] == "failed" and row["retry"] and "cannot stat" in row["error_message"]
    write(tmp_path, "gone.csv", HEADER + "L1,2022-07-15,古林派出所,链店,小商店,0,0,0,否\n")
    assert land_forked(db, raw) == 0
    assert ledger(db)["inspections/link.csv"]["status"] == "loaded"


def test_a_file_over_the_size_or_time_limit_fails_alone(raw, tmp_path):
    write(raw, "inspections/huge.csv", GOOD.replace("G1", "H1") + "#" * 5000)
    db = tmp_path / "w.duckdb"
    assert land_forked(db, raw, limits=Limits(settle_seconds=0, max_file_bytes=4096)) == 0
    assert "too large: 5,1" in ledger(db)["inspections/huge.csv"]["error_message"]
    assert_good_landed(db)
    slow = tmp_path / "slow.duckdb"
    assert land_forked(slow, raw, limits=Limits(settle_seconds=0, max_seconds=0)) == 0
    assert all("took longer than 0 s" in r["error_message"] for r in ledger(slow).values())


def test_a_file_still_being_written_waits_for_the_next_run(raw, tmp_path):
    path = write(raw, "inspections/growing.csv", HEADER)
    stop = threading.Event()

    def keep_writing():
        n = 0
        while not stop.is_set():
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"W{n},2022-07-15,古林派出所,店{n},小商店,0,0,0,否\n")
            n += 1
            time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    db = tmp_path / "w.duckdb"
    try:
        assert land_forked(db, raw, limits=Limits(settle_seconds=0.5)) == 0
    finally:
        stop.set()
        writer.join()
    row = ledger(db)["inspections/growing.csv"]
    assert (
        row["status"] == "failed" and row["retry"] and "still being written" in row["error_message"]
    )
    assert_good_landed(db)
    written = path.read_text(encoding="utf-8").count("\n") - 1
    assert land_forked(db, raw, limits=Limits(settle_seconds=0.5)) == 0
    row = ledger(db)["inspections/growing.csv"]
    assert (row["status"], row["rows_landed"]) == ("loaded", written)
