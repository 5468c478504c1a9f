"""Landing rejects are replayed when the mapping or the rules change, and leave quarantine."""

from __future__ import annotations

import json

import pytest

import pipelines.landing.land as land_module
import pipelines.landing.read as read_module
from pipelines.landing.mapping import MAPPING_PATH, parse_mapping
from tests.landing.conftest import assert_conservation, land, ledger, quarantine, rows, write

pytestmark = pytest.mark.unit

CSV = (
    "\n".join(
        [
            "填报单位: 古林派出所",
            "检查编号,检查日期,场所名称,停业整改",
            "A1,2022-07-15,店1,否",
            "A2,2022-07-15,店2,关停",  # bad_boolean today
            "A3,2022-07-15,店3,否,多余",  # malformed_row: never replayed
            ",2022-07-15,店4,否",  # missing_key: still failing after the change
        ]
    )
    + "\n"
)


@pytest.fixture
def edited_mapping(monkeypatch):
    """The operator adds 关停 as a 'true' word to header_mapping.yml."""
    text = MAPPING_PATH.read_text(encoding="utf-8").replace('"有"]', '"有", "关停"]')
    mapping = parse_mapping(text.encode())
    return lambda: monkeypatch.setattr(land_module, "load_mapping", lambda: mapping)


def test_a_reject_that_now_passes_leaves_quarantine(conn, raw, edited_mapping):
    write(raw, "inspections/x_20220720.csv", CSV)
    land(conn, raw, run_id="r1")
    assert sorted(q["reason_code"] for q in quarantine(conn)) == [
        "bad_boolean",
        "malformed_row",
        "missing_key",
    ]

    edited_mapping()
    result = land(conn, raw, run_id="r2")
    assert result.rows_released == 1 and result.files_loaded == 0
    assert sorted(q["reason_code"] for q in quarantine(conn)) == ["malformed_row", "missing_key"]
    released = rows(
        conn,
        "SELECT inspection_id, closure_ordered, station, _station_source, _line,"
        " _run_id, _exported_at::DATE::VARCHAR FROM landing.inspections "
        "WHERE inspection_id = 'A2'",
    )
    assert released == [("A2", True, "古林派出所", "title", 4, "r2", "2022-07-20")]
    (entry,) = ledger(conn)
    assert (entry["rows_read"], entry["rows_landed"], entry["rows_quarantined"]) == (4, 2, 2)
    assert json.loads(entry["detail"])["examined_with"].startswith("mapping ")
    assert_conservation(conn)

    # nothing changed since: the next run replays nothing and releases nothing
    assert land(conn, raw, run_id="r3").rows_released == 0


def test_rules_version_bump_triggers_a_replay(conn, raw, monkeypatch):
    write(raw, "inspections/x_20220720.csv", CSV)
    land(conn, raw, run_id="r1")
    monkeypatch.setattr(read_module, "RULES_VERSION", "test-bump")
    result = land(conn, raw, run_id="r2")
    # same rules in fact: nothing is released and nothing is duplicated
    assert result.rows_released == 0
    assert len(quarantine(conn)) == 3
    assert rows(conn, "SELECT count(*) FROM landing.inspections") == [(1,)]
    assert json.loads(ledger(conn)[0]["detail"])["examined_with"].endswith("rules test-bump")
