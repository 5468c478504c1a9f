"""Property: whatever happens to a valid export, landing never crashes and never loses a row."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelines.landing.read as read_module
from pipelines.landing import ensure_schema, land_record_type
from tests.landing.conftest import NO_SETTLE, assert_conservation, ledger
from tests.landing.test_fastcsv import COUNTS, HELD, LANDED

pytestmark = pytest.mark.unit

HEADER = ["决定书编号", "违法时间", "执勤单位", "违法行为", "罚款金额(元)", "序号"]
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "合计",
            "是",
            "-1",
            "３处",
            "2022年7月1日",
            "44757",
            "\u3000",
            '"',
            ",",
            "\n",
            "决定书编号",
            "填报单位:古林",
            "𠀀",
            "ﾀ",
            "\x00",
        ]
    ),
    st.text(max_size=8),
)


@st.composite
def exports(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    lines = [list(HEADER)] + [
        [f"T{i}", f"2022-07-{i % 28 + 1:02d} 08:30", "江口派出所", "闯红灯", str(i), str(i)]
        for i in range(n)
    ]
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        op = draw(
            st.sampled_from(
                ["drop_cell", "dup_cell", "garble", "drop_line", "dup_line", "insert_line"]
            )
        )
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1)) if lines else 0
        if op == "insert_line" or not lines:
            lines.insert(i, draw(st.lists(CELL, max_size=7)))
            continue
        line = lines[i]
        j = draw(st.integers(min_value=0, max_value=max(len(line) - 1, 0)))
        if op == "drop_cell" and line:
            del line[j]
        elif op == "dup_cell" and line:
            line.insert(j, line[j])
        elif op == "garble" and line:
            line[j] = draw(CELL)
        elif op == "drop_line":
            del lines[i]
        elif op == "dup_line":
            lines.insert(i, list(line))
    text = "".join(",".join(cells) + "\n" for cells in lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


def _land(raw: Path, fast: bool):
    saved, read_module.FAST_CSV = read_module.FAST_CSV, fast
    try:
        conn = duckdb.connect()
        ensure_schema(conn)
        return conn, land_record_type(conn, raw, "traffic", "prop", limits=NO_SETTLE)
    finally:
        read_module.FAST_CSV = saved


def _snapshot(conn) -> tuple:
    return tuple(conn.execute(sql).fetchall() for sql in (LANDED.format("traffic"), HELD, COUNTS))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(exports(), min_size=1, max_size=3))
def test_mutated_exports_never_crash_and_conserve_rows(files):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        for k, data in enumerate(files):
            path = raw / "traffic" / f"江口派出所_{k}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        slow, _ = _land(raw, fast=False)
        conn, result = _land(raw, fast=True)
        # the Arrow fast path and the line-by-line reader agree on every file
        assert _snapshot(conn) == _snapshot(slow)
        slow.close()
        entries = ledger(conn)
        # every file is accounted for: loaded, failed (with a reason) or duplicate
        assert len(entries) == len(files)
        assert result.files_loaded + result.files_failed + result.files_duplicate == len(files)
        assert all(e["error_message"] for e in entries if e["status"] == "failed")
        assert result.rows_read == result.rows_landed + result.rows_quarantined
        assert_conservation(conn)
        conn.close()
