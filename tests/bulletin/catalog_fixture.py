"""A tiny published catalog built with the real publish(): a few hand-counted records, so every
figure of a bulletin can be checked by hand, and, when asked for, a coverage mart
shaped like the models' marts.mart_reporting_coverage (its main columns, with or without rollups).

Stations: 甲市 has 甲分局 (一所 S1, 二所 S2), 乙县公安局 (三所 S3) and 丁分局 (五所 S5, no
records); 乙市 has 丙分局 (四所 S4). Campaign C1 (测试"百日行动", 2024-06-01 to 2024-09-08, all
record types) and C2 (traffic only, 2024-07-01 to 2024-07-31).

First month of C1 (2024-06-01 to 06-30), 甲市:
- inspections: 甲店 of S1 twice (JC1, JC2), 甲店 of S2 once (JC1 again: ids repeat across
  stations), 乙宾馆 of S2 (a hotel, closure ordered), a nameless rental flat of S3 (JC9);
  nine small: 2 venues, 3 visits, 3 hazards found, 2 rectified, 1 notice; all: 4 venues,
  5 visits; outside the nine: 1 notice, 1 rectified; rental 3 households 10 rooms.
- disputes: CANVASS 2 (JF1 at S1 resolved, JF1 at S2 in mediation), CALL 1 resolved.
- traffic: 4 tickets, fines 40000 + 7500 = 47500 yuan (4.75万).
Previous period (2024-05-02 to 05-31): one inspection of S1, one call dispute of S1.
A year earlier (2023-06-01 to 06-30): one inspection of S1.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.publish import publish

VENUE_TYPES = [
    ("SMALL_SHOP", "小商店", True),
    ("SMALL_RESTAURANT", "小餐饮", True),
    ("SMALL_HOTEL", "小旅馆", True),
    ("SMALL_KTV", "小歌舞娱乐场所", True),
    ("SMALL_NETCAFE", "小网吧", True),
    ("SMALL_BEAUTY_BATH", "小美容洗浴", True),
    ("SMALL_SCHOOL", "小学校/幼儿园/培训机构", True),
    ("SMALL_CLINIC", "小医院/诊所", True),
    ("SMALL_WORKSHOP", "小生产加工企业", True),
    ("RENTAL_HOUSING", "出租屋/公寓", False),
    ("HOTEL", "宾馆酒店", False),
    ("FOOT_MASSAGE", "足疗按摩店", False),
    ("ENTERTAINMENT", "娱乐场所", False),
    ("BATHHOUSE", "洗浴中心", False),
    ("CONVERTED_FACTORY_FLATS", "厂房改建公寓楼/群租房", False),
]
VIOLATIONS = [
    ("PED_RED_LIGHT", "行人闯红灯"),
    ("NMV_WRONG_WAY", "非机动车逆向行驶"),
    ("EBIKE_NO_HELMET", "电动自行车未戴头盔"),
]
STATIONS = [
    ("S1", "一所", "甲分局", "甲市"),
    ("S2", "二所", "甲分局", "甲市"),
    ("S3", "三所", "乙县公安局", "甲市"),
    ("S5", "五所", "丁分局", "甲市"),
    ("S4", "四所", "丙分局", "乙市"),
]
# (id, station, day, campaign, type, venue, found, rectified, notices, closure, households,
#  rooms)
INSPECTIONS = [
    ("JC1", "S1", "2024-06-01", "C1", "SMALL_SHOP", "甲店", 2, 1, 1, False, 0, 0),
    ("JC2", "S1", "2024-06-05", "C1", "SMALL_SHOP", "甲店", 1, 1, 0, False, 0, 0),
    ("JC1", "S2", "2024-06-02", "C1", "SMALL_SHOP", "甲店", 0, 0, 0, False, 0, 0),
    ("JC2", "S2", "2024-06-03", "C1", "HOTEL", "乙宾馆", 1, 1, 1, True, 0, 0),
    ("JC9", "S3", "2024-06-10", "C1", "RENTAL_HOUSING", None, 0, 0, 0, False, 3, 10),
    ("JC0", "S1", "2024-05-20", None, "SMALL_SHOP", "甲店", 1, 0, 0, False, 0, 0),
    ("JC7", "S1", "2023-06-03", None, "SMALL_SHOP", "甲店", 0, 0, 0, False, 0, 0),
    ("JC1", "S4", "2024-06-02", "C1", "SMALL_RESTAURANT", "丙饭店", 5, 5, 5, False, 0, 0),
]
EXTRA = [("JC3", "S1", "2024-06-11", "C1", "SMALL_SHOP", "丁店", 0, 0, 0, False, 0, 0)]
# (id, station, day, campaign, source, status, mediation result, escalated)
DISPUTES = [
    ("JF1", "S1", "2024-06-02", "C1", "CANVASS", "RESOLVED", "SUCCESS", False),
    ("JF1", "S2", "2024-06-02", "C1", "CANVASS", "IN_MEDIATION", None, False),
    ("JF2", "S2", "2024-06-04", "C1", "CALL", "RESOLVED", None, False),
    ("JF0", "S1", "2024-05-25", None, "CALL", "RESOLVED", None, False),
    ("JF1", "S4", "2024-06-02", "C1", "GRID", "RESOLVED", None, True),
]
# (id, unit, day, campaign, violation, action, fine)
TRAFFIC = [
    ("T1", "S1", "2024-06-03", "C1", "NMV_WRONG_WAY", "FINE", 40000),
    ("T2", "S1", "2024-06-03", "C1", "NMV_WRONG_WAY", "FINE", 7500),
    ("T1", "S2", "2024-06-04", "C1", "PED_RED_LIGHT", "WARNING", 0),
    ("T2", "S3", "2024-06-05", "C1", "EBIKE_NO_HELMET", "EDUCATION", 0),
    ("T9", "S1", "2024-07-02", "C2", "EBIKE_NO_HELMET", "WARNING", 0),
]
CAMPAIGNS = [
    (
        "C1",
        '测试"百日行动"',
        "2024-06-01",
        "2024-09-08",
        "all",
        None,
        "inspections;disputes;traffic",
    ),
    ("C2", "交通整治", "2024-07-01", "2024-07-31", "all", None, "traffic"),
]
COVERAGE_DAYS = ["2024-06-01", "2024-06-02", "2024-06-03"]
COVERAGE_TYPES = ["inspections", "disputes", "traffic"]
# First month, 甲市: S1, S2, S3, S5 owe reports; S5 never reports, S3 misses 06-02 (every
# record type: one station-day); S1's disputes of 06-01 were late; S2's inspections of 06-03
# lost 2 rows to quarantine; S1's inspections of 06-02 had 1 row held back.
COVERAGE_EXPECTED = {
    "stations_expected": 4,
    "stations_reporting": 3,
    "missing": 4,
    "late": 1,
    "partial": 1,
    "quarantined": 2,
    "held_back": 1,
    "set_aside": 3,
}


def _coverage_rows() -> list[tuple]:
    rows = []
    for sid, name, bureau, city in STATIONS:
        for day in COVERAGE_DAYS:
            for rt in COVERAGE_TYPES:
                status, quarantined, held = "REPORTED", 0, 0
                if sid == "S5" or (sid == "S3" and day == "2024-06-02"):
                    status = "MISSING"
                elif sid == "S1" and rt == "disputes" and day == "2024-06-01":
                    status = "LATE"
                elif sid == "S2" and rt == "inspections" and day == "2024-06-03":
                    status, quarantined = "PARTIAL", 2
                elif sid == "S1" and rt == "inspections" and day == "2024-06-02":
                    held = 1
                files = 0 if status == "MISSING" else 1
                rows.append(
                    (
                        sid,
                        name,
                        bureau,
                        city,
                        "某省",
                        day,
                        rt,
                        status,
                        files,
                        0 if status == "MISSING" else 5,
                        quarantined,
                        held,
                    )
                )
    return rows


def _values(rows: list[tuple]) -> str:
    def one(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(one(v) for v in row) + ")" for row in rows)


def make_source(path: Path, *, coverage: str | None = None, extra: bool = False) -> list[str]:
    """The working-warehouse side: marts.* tables. coverage: None (no coverage mart), 'plain'
    (the contract) or 'with_rollups' (a `level` column and city rollup rows beside the
    station rows). extra: one more inspection (S1, 2024-06-11), for a second version.
    Returns the tables to publish."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(f"""CREATE TABLE marts.dim_station AS SELECT * FROM (VALUES
            {_values([(s, n, b, c, "某省", "station") for s, n, b, c in STATIONS])})
            t(station_id, station_name, bureau_name, city, province, unit_type)""")
        conn.execute(f"""CREATE TABLE marts.dim_campaign AS SELECT campaign_id, campaign_name,
            CAST(starts_on AS DATE) AS starts_on, CAST(ends_on AS DATE) AS ends_on,
            scope_level, CAST(scope_value AS VARCHAR) AS scope_value, record_types
            FROM (VALUES {_values(CAMPAIGNS)}) t(campaign_id, campaign_name, starts_on,
            ends_on, scope_level, scope_value, record_types)""")
        conn.execute(f"""CREATE TABLE marts.dim_venue_type AS SELECT * FROM (VALUES
            {_values(VENUE_TYPES)}) t(venue_type_code, label_zh, is_nine_small)""")
        conn.execute(f"""CREATE TABLE marts.dim_violation_type AS SELECT * FROM (VALUES
            {_values(VIOLATIONS)}) t(violation_code, label_zh)""")
        conn.execute(f"""CREATE TABLE marts.fct_inspections AS SELECT inspection_id,
            station_id, CAST(inspected_on AS DATE) AS inspected_on,
            CAST(campaign_id AS VARCHAR) AS campaign_id, venue_type_code,
            CAST(venue_name AS VARCHAR) AS venue_name,
            CAST(hazards_found AS BIGINT) AS hazards_found,
            CAST(hazards_rectified AS BIGINT) AS hazards_rectified,
            CAST(notices_issued AS BIGINT) AS notices_issued, closure_ordered,
            CAST(rental_households AS BIGINT) AS rental_households,
            CAST(rental_rooms AS BIGINT) AS rental_rooms
            FROM (VALUES {_values(INSPECTIONS + EXTRA * extra)})
            t(inspection_id, station_id, inspected_on, campaign_id, venue_type_code,
            venue_name, hazards_found, hazards_rectified, notices_issued, closure_ordered,
            rental_households, rental_rooms)""")
        conn.execute(f"""CREATE TABLE marts.fct_disputes AS SELECT dispute_id, station_id,
            CAST(reported_on AS DATE) AS reported_on,
            CAST(campaign_id AS VARCHAR) AS campaign_id, source_code, status_code,
            CAST(mediation_result_code AS VARCHAR) AS mediation_result_code,
            escalated_to_criminal
            FROM (VALUES {_values(DISPUTES)}) t(dispute_id, station_id, reported_on,
            campaign_id, source_code, status_code, mediation_result_code,
            escalated_to_criminal)""")
        conn.execute(f"""CREATE TABLE marts.fct_traffic_violations AS SELECT ticket_id,
            unit_id, CAST(occurred_on AS DATE) AS occurred_on,
            CAST(occurred_on AS TIMESTAMP) + INTERVAL 9 HOUR AS occurred_at,
            CAST(campaign_id AS VARCHAR) AS campaign_id, violation_code, action_code,
            CAST(fine_yuan AS BIGINT) AS fine_yuan
            FROM (VALUES {_values(TRAFFIC)}) t(ticket_id, unit_id, occurred_on,
            campaign_id, violation_code, action_code, fine_yuan)""")
        tables = [
            "dim_station",
            "dim_campaign",
            "dim_venue_type",
            "dim_violation_type",
            "fct_inspections",
            "fct_disputes",
            "fct_traffic_violations",
        ]
        if coverage:
            conn.execute(f"""CREATE TABLE marts.mart_reporting_coverage AS SELECT station_id,
                station_name, bureau_name, city, province, CAST(day AS DATE) AS day,
                record_type, status, CAST(files_received AS BIGINT) AS files_received,
                CAST(rows_landed AS BIGINT) AS rows_landed,
                CAST(rows_quarantined AS BIGINT) AS rows_quarantined,
                CAST(rows_held_back AS BIGINT) AS rows_held_back,
                CAST(day AS TIMESTAMP) + INTERVAL 20 HOUR AS first_arrival_at,
                CAST(day AS TIMESTAMP) + INTERVAL 21 HOUR AS last_arrival_at
                FROM (VALUES {_values(_coverage_rows())}) t(station_id, station_name,
                bureau_name, city, province, day, record_type, status, files_received,
                rows_landed, rows_quarantined, rows_held_back)""")
            if coverage == "with_rollups":
                conn.execute(
                    "ALTER TABLE marts.mart_reporting_coverage "
                    "ADD COLUMN level VARCHAR DEFAULT 'station'"
                )
                # a city rollup row per day and record type: summing it in would double
                conn.execute("""INSERT INTO marts.mart_reporting_coverage
                    SELECT 'ALL', city, 'ALL', city, province, day, record_type, 'MISSING',
                           sum(files_received), sum(rows_landed), sum(rows_quarantined),
                           sum(rows_held_back), min(first_arrival_at), max(last_arrival_at),
                           'city'
                    FROM marts.mart_reporting_coverage GROUP BY ALL""")
            tables.append("mart_reporting_coverage")
    return tables


def make_published(
    root: Path,
    *,
    coverage: str | None = None,
    run_id: str = "run-1",
    extra: bool = False,
    keep: int = 14,
) -> Path:
    """published/ under root, with one more version of the tiny warehouse."""
    source = root / "source.duckdb"
    tables = make_source(source, coverage=coverage, extra=extra)
    published = root / "published"
    with duckdb.connect(str(source), read_only=True) as conn:
        publish(conn, tables, published, run_id=run_id, keep=keep)
    return published
