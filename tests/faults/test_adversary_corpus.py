"""A generated corpus with an adversary's additions, through the real job (issue: nothing lost,
nothing leaked): a sheet spanning XFD1048576, a FIFO, a 50 MB field, a file name that is not
UTF-8, and ID numbers, phone numbers and plates typed into every free-text column, into a file
name and into a sheet name. The run ends with a summary naming what was set aside, publishes
the truth plus the hostile files' valid rows, and nothing published holds personal data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import load_truth, make_warehouse
from tests.e2e.test_ground_truth import FACTS, assert_marts_equal_truth
from tests.faults.test_hostile_files import HEADER_ROW, cell, sheet, xlsx

pytestmark = pytest.mark.e2e

# typed by hand into free text, file and sheet names (valid ID checksum, mobile, landline,
# plates); each must reach the published tables masked, never in the clear
PII = {
    "id": "11010519491231002X",
    "mobile": "13912345678",
    "landline": "0574-87654321",
    "plate": "浙B12345",
    "file_mobile": "13812345678",
    "sheet_mobile": "13700001111",
    "plate2": "晋M54321",
}
DAY = "2021-01-10"  # outside every campaign: the campaign marts stay the generator's truth

TRAFFIC = (
    "决定书编号,违法时间,执勤单位,违法地点,违法行为,车辆类型,处理方式,罚款金额\n"
    f"8801,{DAY} 09:00,古林派出所,人民路 车主张三 {PII['mobile']},非机动车闯红灯,"
    f"小型汽车 {PII['plate']},罚款,50\n"
)
INSPECTIONS = (
    "检查编号,检查日期,派出所,场所名称,场所类型,发现隐患,督促整改,下发通知书,停业整改\n"
    f"8801,{DAY},古林派出所,李四小卖部 {PII['id']},小商店,1,1,0,否\n"
)
DISPUTES = (
    "纠纷编号,登记日期,派出所,来源,纠纷类型,化解状态,调解方式,当事人,联系电话\n"
    f"8801,{DAY},古林派出所,摸排,邻里纠纷,已化解,网格员王五 {PII['landline']},王五,"
    f"{PII['mobile']}\n"
)


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def plant(raw: Path) -> dict[str, int]:
    """The adversary's files; returns the valid rows they add per record type."""
    # personal data in every free-text column and in a file name
    write(raw / "traffic" / f"张三{PII['file_mobile']}_违法记录_20210112.csv", TRAFFIC)
    write(raw / "inspections" / "手工登记_20210112.csv", INSPECTIONS)
    write(raw / "disputes" / "手工纠纷_20210112.csv", DISPUTES)
    # ... and in a sheet name, with a plate in the road
    import xlsxwriter

    book = xlsxwriter.Workbook(str(raw / "traffic" / "补录_20210112.xlsx"))
    ws = book.add_worksheet(f"王五{PII['sheet_mobile']}")
    for r, row in enumerate(
        [
            ["决定书编号", "违法时间", "执勤单位", "违法地点", "违法行为", "处理方式"],
            [
                "8802",
                f"{DAY} 10:00",
                "古林派出所",
                f"解放路 {PII['plate2']}",
                "非机动车闯红灯",
                "警告",
            ],
        ]
    ):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    book.close()
    # a name that is not UTF-8 (GBK bytes, as unpacked from a Windows zip), one valid row
    name = os.fsdecode("补录_检查_20210112.csv".encode("gbk"))
    write(
        raw / "inspections" / name,
        INSPECTIONS.replace("8801", "8802").replace(f"李四小卖部 {PII['id']}", "王记面馆"),
    )
    # a 50 MB field: its row is set aside, the valid row beside it lands
    write(
        raw / "disputes" / "长备注_20210112.csv",
        DISPUTES.replace("8801", "8802")
        + f"8803,{DAY},古林派出所,摸排,邻里纠纷,已化解,{'x' * 50_000_000},赵六,\n",
    )
    # a sheet spanning the whole grid (calamine would abort the process) and a FIFO
    xlsx(
        raw / "inspections" / "炸弹.xlsx",
        sheet(HEADER_ROW + '<row r="1048576">' + cell("XFD1048576", "x") + "</row>"),
    )
    os.mkfifo(raw / "traffic" / "管道.csv")
    return {"inspections": 2, "disputes": 2, "traffic": 2}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adversary")
    raw = tmp / "raw"
    generate_corpus(raw, stations=3, days=4, seed=13)
    added = plant(raw)
    wh = make_warehouse(tmp, raw)
    result, summary, ok = wh.run()
    return wh, load_truth(raw), added, result, summary, ok


def test_the_night_ends_with_a_summary_naming_what_was_set_aside(attacked):
    wh, _, _, result, summary, ok = attacked
    assert result.success and ok, summary
    assert "succeeded with failures" in summary
    for name, reason in (
        ("inspections/炸弹.xlsx", "17,179,869,184 cells"),
        ("traffic/管道.csv", "not a regular file"),
    ):
        assert any(name in line and reason in line for line in summary.splitlines()), summary


def test_the_published_figures_are_the_truth_plus_the_valid_hostile_rows(attacked):
    wh, truth, added, *_ = attacked
    assert_marts_equal_truth(wh, truth)
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type] + added[record_type]
    ((line, reason),) = wh.working(
        "SELECT line_number, reason_code FROM ops.quarantine WHERE "
        "source_path = 'disputes/长备注_20210112.csv'"
    )
    assert (line, reason) == (3, "oversized_field")
    ledger = wh.working(
        "SELECT path, rows_read, rows_landed, rows_quarantined FROM ops.file_ledger"
    )
    assert all(read == landed + held for _, read, landed, held in ledger)
    assert any(path.startswith("inspections/\\x") for path, *_ in ledger)


def published_strings(wh) -> list[str]:
    """Every text value of every published table, and every published file's name and the
    JSON pointers BI tools read."""
    found = []
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        for schema, table in conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')"
        ).fetchall():
            for row in conn.execute(f"SELECT * FROM {schema}.{table}").fetchall():
                found.extend(str(v) for v in row if v is not None)
    published = wh.home / "published"
    for path in published.rglob("*"):
        found.append(str(path.relative_to(published)))
        if path.suffix == ".json":
            found.append(path.read_text(encoding="utf-8"))
    return found


def test_no_personal_data_is_published_in_the_clear(attacked):
    wh, truth, *_ = attacked
    text = "\n".join(published_strings(wh))
    for kind, value in PII.items():
        assert value not in text, kind
    for value in truth["pii_values"]:
        assert value not in text, value
    for mask in ("[身份证号]", "[手机号]", "[电话]", "[车牌]"):
        assert mask in text, mask
    roads = [r for (r,) in wh.published("fct_traffic_violations", ["road"]) if r and "[" in r]
    assert "人民路 车主张三 [手机号]" in roads and "解放路 [车牌]" in roads
    files = {f for (f,) in wh.published("fct_traffic_violations", ["source_file"])}
    assert "traffic/张三[手机号]_违法记录_20210112.csv" in files
    sheets = {s for (s,) in wh.published("fct_traffic_violations", ["source_sheet"])}
    assert "王五[手机号]" in sheets
    # the blocking check ran on every published table and found nothing left
    checks = json.loads((wh.home / "reports" / attacked[3].run_id / "checks.json").read_text())
    screened = [c for c in checks if c["name"] == "no_personal_data"]
    assert {c["table"] for c in screened} == {c["table"] for c in checks}
    assert all(c["passed"] for c in screened)
