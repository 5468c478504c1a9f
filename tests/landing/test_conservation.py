"""Conservation over a small messy corpus: every row read is landed or quarantined."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.landing.conftest import (
    INSPECTION_HEADER,
    assert_conservation,
    land,
    ledger,
    quarantine,
    write,
    write_xlsx,
)

pytestmark = pytest.mark.unit


def build_corpus(raw) -> dict[str, int]:
    """Writes the corpus; returns the data rows each record type holds (by construction)."""
    good = [f"I{i},2022-07-{10 + i},古林派出所,店{i},小商店,{i},{i},0,否" for i in range(5)]
    bad = [
        ",2022-07-15,古林派出所,店,小商店,1,1,0,否",  # missing_key
        "I90,2022-02-30,古林派出所,店,小商店,1,1,0,否",  # bad_date
        "I91,2022-07-15,古林派出所,店,小商店,1,3,0,否",  # rectified > found
        "I92,2022-07-15,古林派出所,店",
    ]  # malformed
    write(
        raw,
        "inspections/古林派出所/a_20220731.csv",
        "古林派出所检查登记表\n填报日期:2022-07-31\n\n"
        + INSPECTION_HEADER
        + "\n"
        + "\n".join(good + bad)
        + "\n合计,,,,,10,10,0,\n",
        "gbk",
    )
    write(
        raw,
        "inspections/古林派出所/copy.csv",
        (raw / "inspections/古林派出所/a_20220731.csv").read_bytes(),
    )
    write(raw, "inspections/empty.csv", b"")
    write(raw, "inspections/half.csv", b"\xff\xfe\x00garbage")
    write_xlsx(
        raw,
        "inspections/高桥派出所/b.xlsx",
        {
            "登记": [
                ["高桥派出所检查登记表"],
                [],
                ["检查编号", "检查日期", "场所名称", "发现隐患（处）", "已整改"],
                ["X1", None, "店", "2处", 1],
                ["X2", 44760, "店", -1, 0],
                ["X3", "2022/7/20", "店", None, None],
                ["小计", None, None, 2, 1],
            ],
            "说明": [["仅供参考"]],
        },
        merge_title=True,
        date_cells={("登记", 3, 1): datetime(2022, 7, 18)},
    )
    write(
        raw,
        "disputes/江口派出所/d.csv",
        "纠纷编号,登记日期,风险等级,是否民转刑,回访次数\n"
        "D1,2022年7月1日,低,否,1\nD2,2022年7月2日,高,是,2次\nD3,2022年7月3日,中,不知道,0\n"
        "D3,,中,否,0\n",
        "utf-8-sig",
    )
    write(
        raw,
        "traffic/t_20220731.csv",
        "决定书编号,违法时间,执勤单位,违法行为,罚款金额(元)\n"
        + "".join(
            f"T{i},2022-07-2{i % 10} 0{i % 10}:30,江口派出所,闯红灯,{i}元\n" for i in range(30)
        )
        + "T99,2032-07-01 08:00,江口派出所,闯红灯,0\n",
        "gb18030",
    )
    return {"inspections": len(good) + len(bad) + 3, "disputes": 4, "traffic": 31}


def test_messy_corpus_conserves_every_row_and_reruns_idempotently(conn, raw):
    expected = build_corpus(raw)
    results = {rt: land(conn, raw, rt) for rt in ("inspections", "disputes", "traffic")}
    for record_type, n in expected.items():
        r = results[record_type]
        assert r.rows_read == n, record_type
        assert r.rows_read == r.rows_landed + r.rows_quarantined
    assert (results["inspections"].files_failed, results["inspections"].files_duplicate) == (2, 1)
    assert {q["reason_code"] for q in quarantine(conn)} >= {
        "missing_key",
        "bad_date",
        "rectified_exceeds_found",
        "malformed_row",
        "bad_count",
        "bad_boolean",
        "implausible_date",
        "file_failed",
    }
    assert_conservation(conn)
    before = ledger(conn)
    again = [land(conn, raw, rt, run_id="run-2") for rt in ("inspections", "disputes", "traffic")]
    assert sum(r.files_loaded + r.files_failed + r.files_duplicate for r in again) == 0
    assert ledger(conn) == before
