"""Record identity (issue: record identity): (station, record number) is the key everywhere;
a path's latest content replaces what it held; conflicts across stations are findings; the
winner never depends on arrival. Landing tables written by hand (tests/dbt/landing.py)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from tests.dbt.conftest import Warehouse
from tests.dbt.landing import ExportFile, build_landing, land

E1 = datetime(2022, 7, 10)
E2 = datetime(2022, 7, 20)
SEEN_EARLY, SEEN_LATE = datetime(2026, 1, 1), datetime(2026, 2, 1)


def inspection(number: str, station: str, venue: str, found: int = 0, day: int = 5) -> dict:
    return dict(
        inspection_id=number,
        inspected_on=date(2022, 7, day),
        station=station,
        venue_name=venue,
        venue_type="小超市",
        hazards_found=found,
    )


# 0001 at two stations, different venues: two records
SANLULI = ExportFile(
    "inspections",
    "inspections/三路里所/检查_20220710.csv",
    E1,
    SEEN_EARLY,
    (
        inspection("0001", "三路里所", "好又多超市", 1),
        inspection("0002", "三路里所", "红旗商店", 2),
    ),
)
XIZHANG = ExportFile(
    "inspections",
    "inspections/席张所/检查_20220710.csv",
    E1,
    SEEN_EARLY,
    (inspection("0001", "席张所", "金龙商行", 3),),
)
# a re-export of 三路里's 0002 under 北城 (a merged station): same number, day and venue
BEICHENG = ExportFile(
    "inspections",
    "inspections/北城所/检查_20220720.csv",
    E2,
    SEEN_EARLY,
    (inspection("0002", "北城所", "红旗商店", 2),),
)
# two exports of one record with the same export date, in two paths; arrival order reversed
COPY_A = ExportFile(
    "inspections",
    "inspections/三路里所/a_20220720.csv",
    E2,
    SEEN_LATE,
    (inspection("0003", "三路里所", "平安超市", 1),),
)
COPY_B = ExportFile(
    "inspections",
    "inspections/三路里所/b_20220720.csv",
    E2,
    SEEN_EARLY,
    (inspection("0003", "三路里所", "平安超市", 5),),
)


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> Warehouse:
    home = tmp_path_factory.mktemp("identity")
    build_landing(home / "warehouse.duckdb", files=(SANLULI, XIZHANG, BEICHENG, COPY_A, COPY_B))
    wh = Warehouse(home=home)
    wh.dbt("build")
    return wh


def facts(wh: Warehouse) -> list[tuple]:
    return wh.query(
        "SELECT inspection_key, station_id, venue_name, hazards_found "
        "FROM marts.fct_inspections ORDER BY 1"
    )


def test_records_of_two_stations_sharing_a_number_are_both_published(identity):
    rows = {key: (station, venue, found) for key, station, venue, found in facts(identity)}
    assert rows["YC_YH_SANLULI:0001"] == ("YC_YH_SANLULI", "好又多超市", 1)
    assert rows["YC_YH_XIZHANG:0001"] == ("YC_YH_XIZHANG", "金龙商行", 3)


def test_the_same_record_under_another_station_is_a_key_conflict(identity):
    keys = [k for k, *_ in facts(identity)]
    assert "YC_YH_SANLULI:0002" in keys and "YC_YH_BEICHENG:0002" not in keys
    ((reason, message, path, line),) = identity.query(
        "SELECT reason_code, message, source_path, line_number FROM "
        "intermediate.int_rejected_rows WHERE record_key = 'YC_YH_BEICHENG:0002'"
    )
    assert (reason, path, line) == ("key_conflict", BEICHENG.path, 5)
    # both versions' files and lines are named: the held-back one in its row, the first claim
    # in the message
    assert "YC_YH_SANLULI" in message and SANLULI.path in message and "line 6" in message


def test_equal_export_times_are_decided_by_the_file_name_not_by_arrival(identity):
    # b_… sorts after a_…: it wins although it was seen first
    assert ("YC_YH_SANLULI:0003", "YC_YH_SANLULI", "平安超市", 5) in facts(identity)


def test_a_new_version_of_a_path_replaces_its_rows_and_a_record_it_drops_disappears(
    identity, tmp_path
):
    wh = identity.copy_to(tmp_path / "home")
    corrected = ExportFile(
        "inspections",
        SANLULI.path,
        E1,
        SEEN_LATE,
        (
            inspection("0001", "三路里所", "好又多超市", 4),  # corrected; 0002 dropped
        ),
    )
    with duckdb.connect(str(wh.path)) as conn:
        land(conn, corrected, run_id="second-run")
        statuses = conn.execute(
            "SELECT status FROM ops.file_ledger WHERE path = ? ORDER BY first_seen_at",
            [SANLULI.path],
        ).fetchall()
    assert statuses == [("superseded",), ("loaded",)]
    wh.dbt("build")
    rows = {key: found for key, _, _, found in facts(wh)}
    assert rows["YC_YH_SANLULI:0001"] == 4
    assert "YC_YH_SANLULI:0002" not in rows
    # with 三路里's 0002 gone, 北城's copy is the first claim: no longer a conflict
    assert rows["YC_YH_BEICHENG:0002"] == 2
    assert wh.query("SELECT count(*) FROM intermediate.int_inspections WHERE _tombstone") == [(0,)]
    incremental = facts(wh)
    wh.dbt("build", "--full-refresh")
    assert facts(wh) == incremental
