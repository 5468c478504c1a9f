"""A tiny warehouse.duckdb that satisfies every suite: dims, facts, marts, landing, rejects.

The marts are computed here with GROUPING SETS (not the check models' UNPIVOT SQL), so the
reconciliation checks compare two independent computations.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.landing.schema import LEDGER_COLUMNS, QUARANTINE_COLUMNS

STATIONS = [
    # station_id, station_name, bureau_name, city, province
    ("NB_HS_GULIN", "古林派出所", "宁波市公安局海曙分局", "宁波市", "浙江省"),
    ("NB_CX_HENGHE", "横河派出所", "慈溪市公安局", "宁波市", "浙江省"),
    ("YC_YH_BEICHENG", "北城派出所", "运城市公安局盐湖分局", "运城市", "山西省"),
]
VENUES = [
    "SMALL_SHOP",
    "SMALL_RESTAURANT",
    "SMALL_HOTEL",
    "SMALL_KTV",
    "SMALL_NETCAFE",
    "SMALL_BEAUTY_BATH",
    "SMALL_SCHOOL",
    "SMALL_CLINIC",
    "SMALL_WORKSHOP",
    "RENTAL_HOUSING",
    "HOTEL",
    "FOOT_MASSAGE",
    "ENTERTAINMENT",
    "BATHHOUSE",
    "CONVERTED_FACTORY_FLATS",
]
VIOLATIONS = [
    "PED_RED_LIGHT",
    "PED_NO_CROSSWALK",
    "NMV_RED_LIGHT",
    "NMV_WRONG_WAY",
    "NMV_MOTOR_LANE",
    "EBIKE_NO_HELMET",
    "MV_NO_YIELD_ZEBRA",
    "MV_WINDOW_THROW",
    "MV_PHONE",
    "MV_RACING",
]
FIRST_DAY = dt.date(2022, 7, 1)
DAYS = 10
NINE = VENUES[:9]

SCHEMA = """
CREATE SCHEMA marts; CREATE SCHEMA landing; CREATE SCHEMA intermediate; CREATE SCHEMA staging;
CREATE SCHEMA ops;
CREATE TABLE marts.dim_station (station_id VARCHAR, station_name VARCHAR, bureau_name VARCHAR,
    city VARCHAR, province VARCHAR, model_station_level VARCHAR, model_station_year INTEGER);
CREATE TABLE marts.dim_campaign (campaign_id VARCHAR, campaign_name VARCHAR, starts_on DATE,
    ends_on DATE);
CREATE TABLE marts.dim_venue_type (venue_type_code VARCHAR, label_zh VARCHAR,
    is_nine_small BOOLEAN);
CREATE TABLE marts.dim_violation_type (violation_code VARCHAR, label_zh VARCHAR);
CREATE TABLE marts.fct_inspections (inspection_id VARCHAR, station_id VARCHAR,
    inspected_on DATE, campaign_id VARCHAR, venue_type_code VARCHAR, venue_name VARCHAR,
    hazards_found BIGINT, hazards_rectified BIGINT, notices_issued BIGINT,
    closure_ordered BOOLEAN, rental_households BIGINT, rental_rooms BIGINT,
    source_file VARCHAR, exported_at TIMESTAMP, inspection_key VARCHAR);
CREATE TABLE marts.fct_disputes (dispute_id VARCHAR, station_id VARCHAR, reported_on DATE,
    campaign_id VARCHAR, source_code VARCHAR, dispute_type VARCHAR, risk_level_code VARCHAR,
    status_code VARCHAR, resolved_on DATE, mediation_channel VARCHAR,
    mediation_result_code VARCHAR, escalated_to_criminal BOOLEAN, follow_up_visits BIGINT,
    party_key VARCHAR, source_file VARCHAR, exported_at TIMESTAMP, dispute_key VARCHAR);
CREATE TABLE marts.fct_traffic_violations (ticket_id VARCHAR, unit_id VARCHAR,
    occurred_at TIMESTAMP, campaign_id VARCHAR, road VARCHAR, violation_code VARCHAR,
    vehicle_type VARCHAR, plate_key VARCHAR, action_code VARCHAR, fine_yuan DECIMAL(12,2),
    source_file VARCHAR, exported_at TIMESTAMP, ticket_key VARCHAR);
CREATE TABLE intermediate.int_rejected_rows (record_type VARCHAR, source_path VARCHAR,
    file_sha256 VARCHAR, sheet VARCHAR, line_number INTEGER, reason_code VARCHAR,
    message VARCHAR, raw_values JSON, record_id VARCHAR, record_key VARCHAR,
    station_text VARCHAR, station_id VARCHAR);
CREATE TABLE intermediate.int_station_lookup (station_match VARCHAR, station_id VARCHAR);
CREATE TABLE intermediate.int_reporting_expectations (station_id VARCHAR, record_type VARCHAR,
    expected_from DATE, expected_to DATE, deadline_hours INTEGER);
CREATE SCHEMA quality;
"""

LANDING = {
    "inspections": ("inspection_id", "inspected_on", "station"),
    "disputes": ("dispute_id", "reported_on", "station"),
    "traffic": ("ticket_id", "occurred_at", "unit"),
}
# the batch stamp (_staged_at, _resolved_at) of the one build that wrote this warehouse
STAMP = "TIMESTAMP '2022-07-11 09:00:00'"
FACTS = {
    "inspections": ("fct_inspections", "inspection_key", "station_id"),
    "disputes": ("fct_disputes", "dispute_key", "station_id"),
    "traffic": ("fct_traffic_violations", "ticket_key", "unit_id"),
}

# mart_station_daily's month bookkeeping (macros/months.sql): each row's month, the month's
# fingerprint (macro station_daily_fingerprints: fact rows per table, largest _resolved_at)
# and the batch stamp of the build that wrote it
STATION_DAILY_MONTHS = f"""
ALTER TABLE marts.fct_traffic_violations ADD COLUMN occurred_on DATE;
UPDATE marts.fct_traffic_violations SET occurred_on = occurred_at::DATE;
ALTER TABLE marts.mart_station_daily ADD COLUMN _month DATE;
ALTER TABLE marts.mart_station_daily ADD COLUMN _fingerprint VARCHAR;
ALTER TABLE marts.mart_station_daily ADD COLUMN _built_at TIMESTAMP;
ALTER TABLE marts.mart_station_daily ADD COLUMN _tombstone BOOLEAN;
UPDATE marts.mart_station_daily
SET _month = date_trunc('month', day)::DATE, _built_at = {STAMP}, _tombstone = false;
UPDATE marts.mart_station_daily AS m SET _fingerprint = f.fingerprint
FROM (
    SELECT _month, string_agg(record_type || ':' || n, ' ' ORDER BY record_type)
        || ' @' || coalesce(max(stamp)::VARCHAR, '') AS fingerprint
    FROM (
        SELECT date_trunc('month', inspected_on)::DATE AS _month, 'inspections' AS record_type,
               count(*) AS n, max(_resolved_at) AS stamp
        FROM marts.fct_inspections GROUP BY 1
        UNION ALL
        SELECT date_trunc('month', reported_on)::DATE, 'disputes', count(*), max(_resolved_at)
        FROM marts.fct_disputes GROUP BY 1
        UNION ALL
        SELECT date_trunc('month', occurred_on)::DATE, 'traffic', count(*), max(_resolved_at)
        FROM marts.fct_traffic_violations GROUP BY 1)
    GROUP BY _month) AS f
WHERE f._month = m._month
"""

# the campaign marts' bookkeeping (macro campaign_fingerprints): each campaign's fact rows and
# their largest stamp, and the batch stamp of the build that wrote them
CAMPAIGN_MARTS = {
    "mart_campaign_inspections": "fct_inspections",
    "mart_campaign_disputes": "fct_disputes",
    "mart_campaign_traffic": "fct_traffic_violations",
}
CAMPAIGN_BOOKKEEPING = "".join(
    f"""
ALTER TABLE marts.{mart} ADD COLUMN _fact_rows BIGINT;
ALTER TABLE marts.{mart} ADD COLUMN _fact_fingerprint VARCHAR;
ALTER TABLE marts.{mart} ADD COLUMN _built_at TIMESTAMP;
UPDATE marts.{mart} AS m
SET _fact_rows = f.n, _fact_fingerprint = f.fingerprint, _built_at = {STAMP}
FROM (
    SELECT campaign_id, count(*) AS n, max(_resolved_at)::VARCHAR AS fingerprint
    FROM marts.{fact} WHERE campaign_id IS NOT NULL GROUP BY 1) AS f
WHERE f.campaign_id = m.campaign_id;
"""
    for mart, fact in CAMPAIGN_MARTS.items()
)

MARTS = """
CREATE TABLE marts.mart_station_daily AS
WITH i AS (
    SELECT station_id, inspected_on AS day,
           count(DISTINCT coalesce(venue_name, inspection_id)) AS venues_inspected,
           count(*) AS inspection_visits, sum(hazards_found) AS hazards_found,
           sum(hazards_rectified) AS hazards_rectified, sum(notices_issued) AS notices_issued,
           count(DISTINCT CASE WHEN closure_ordered THEN coalesce(venue_name, inspection_id) END)
               AS closures_ordered,
           sum(rental_households) AS rental_households, sum(rental_rooms) AS rental_rooms
    FROM marts.fct_inspections GROUP BY ALL),
d AS (
    SELECT station_id, reported_on AS day, count(*) AS disputes_found,
           count(*) FILTER (WHERE status_code = 'RESOLVED') AS disputes_resolved,
           count(mediation_result_code) AS mediations,
           count(*) FILTER (WHERE mediation_result_code = 'SUCCESS') AS mediation_successes,
           count(*) FILTER (WHERE escalated_to_criminal) AS escalations,
           sum(follow_up_visits) AS follow_up_visits
    FROM marts.fct_disputes GROUP BY ALL),
t AS (
    SELECT unit_id AS station_id, occurred_at::DATE AS day, count(*) AS traffic_violations,
           sum(fine_yuan) AS fines_yuan
    FROM marts.fct_traffic_violations GROUP BY ALL),
k AS (SELECT station_id, day FROM i UNION SELECT station_id, day FROM d
      UNION SELECT station_id, day FROM t)
SELECT k.station_id, k.day,
       coalesce(venues_inspected, 0)::BIGINT AS venues_inspected,
       coalesce(inspection_visits, 0)::BIGINT AS inspection_visits,
       coalesce(hazards_found, 0)::BIGINT AS hazards_found,
       coalesce(hazards_rectified, 0)::BIGINT AS hazards_rectified,
       coalesce(notices_issued, 0)::BIGINT AS notices_issued,
       coalesce(closures_ordered, 0)::BIGINT AS closures_ordered,
       coalesce(rental_households, 0)::BIGINT AS rental_households,
       coalesce(rental_rooms, 0)::BIGINT AS rental_rooms,
       coalesce(disputes_found, 0)::BIGINT AS disputes_found,
       coalesce(disputes_resolved, 0)::BIGINT AS disputes_resolved,
       coalesce(mediations, 0)::BIGINT AS mediations,
       coalesce(mediation_successes, 0)::BIGINT AS mediation_successes,
       coalesce(escalations, 0)::BIGINT AS escalations,
       coalesce(follow_up_visits, 0)::BIGINT AS follow_up_visits,
       coalesce(traffic_violations, 0)::BIGINT AS traffic_violations,
       coalesce(fines_yuan, 0)::DECIMAL(18,2) AS fines_yuan,
       round(hazards_rectified / nullif(hazards_found, 0), 6)::DECIMAL(9,6) AS rectification_rate,
       round(disputes_resolved / nullif(disputes_found, 0), 6)::DECIMAL(9,6) AS resolution_rate,
       round(mediation_successes / nullif(mediations, 0), 6)::DECIMAL(9,6)
           AS mediation_success_rate
FROM k LEFT JOIN i USING (station_id, day) LEFT JOIN d USING (station_id, day)
       LEFT JOIN t USING (station_id, day);

CREATE TABLE marts.mart_campaign_inspections AS
WITH f AS (
    SELECT f.*, s.station_name, s.bureau_name, s.city, s.province,
           coalesce(f.venue_name, f.inspection_id) AS venue,
           unnest([f.venue_type_code,
                   CASE WHEN d.is_nine_small THEN 'ALL_NINE_SMALL' END, 'ALL']) AS code
    FROM marts.fct_inspections f JOIN marts.dim_station s USING (station_id)
    JOIN marts.dim_venue_type d USING (venue_type_code)
    WHERE f.campaign_id IS NOT NULL),
g AS (
    SELECT campaign_id, code,
           CASE WHEN grouping(station_name) = 0 THEN 'station'
                WHEN grouping(bureau_name) = 0 THEN 'bureau'
                WHEN grouping(city) = 0 THEN 'city' ELSE 'province' END AS level,
           coalesce(station_name, bureau_name, city, province) AS unit_name,
           count(DISTINCT (station_id, venue)) AS venues_inspected,
           count(*) AS inspection_visits, sum(hazards_found) AS hazards_found,
           sum(hazards_rectified) AS hazards_rectified, sum(notices_issued) AS notices_issued,
           count(DISTINCT CASE WHEN closure_ordered THEN (station_id, venue) END)
               AS closures_ordered,
           sum(rental_households) AS rental_households, sum(rental_rooms) AS rental_rooms
    FROM f WHERE code IS NOT NULL
    GROUP BY GROUPING SETS ((campaign_id, code, station_name), (campaign_id, code, bureau_name),
                            (campaign_id, code, city), (campaign_id, code, province)))
SELECT campaign_id, level, unit_name, code AS venue_type_code,
       venues_inspected::BIGINT AS venues_inspected,
       inspection_visits::BIGINT AS inspection_visits, hazards_found::BIGINT AS hazards_found,
       hazards_rectified::BIGINT AS hazards_rectified,
       round(hazards_rectified / nullif(hazards_found, 0), 6)::DECIMAL(9,6) AS rectification_rate,
       notices_issued::BIGINT AS notices_issued, closures_ordered::BIGINT AS closures_ordered,
       rental_households::BIGINT AS rental_households, rental_rooms::BIGINT AS rental_rooms
FROM g;

CREATE TABLE marts.mart_campaign_disputes AS
WITH f AS (
    SELECT f.*, s.station_name, s.bureau_name, s.city, s.province,
           unnest([f.source_code, 'ALL']) AS code
    FROM marts.fct_disputes f JOIN marts.dim_station s USING (station_id)
    WHERE f.campaign_id IS NOT NULL),
g AS (
    SELECT campaign_id, code,
           CASE WHEN grouping(station_name) = 0 THEN 'station'
                WHEN grouping(bureau_name) = 0 THEN 'bureau'
                WHEN grouping(city) = 0 THEN 'city' ELSE 'province' END AS level,
           coalesce(station_name, bureau_name, city, province) AS unit_name,
           count(*) AS disputes_found,
           count(*) FILTER (WHERE status_code = 'RESOLVED') AS disputes_resolved,
           count(mediation_result_code) AS mediations,
           count(*) FILTER (WHERE mediation_result_code = 'SUCCESS') AS mediation_successes,
           count(*) FILTER (WHERE escalated_to_criminal) AS escalations
    FROM f
    GROUP BY GROUPING SETS ((campaign_id, code, station_name), (campaign_id, code, bureau_name),
                            (campaign_id, code, city), (campaign_id, code, province)))
SELECT campaign_id, level, unit_name, code AS source_code,
       disputes_found::BIGINT AS disputes_found, disputes_resolved::BIGINT AS disputes_resolved,
       round(disputes_resolved / disputes_found, 6)::DECIMAL(9,6) AS resolution_rate,
       mediations::BIGINT AS mediations, mediation_successes::BIGINT AS mediation_successes,
       round(mediation_successes / nullif(mediations, 0), 6)::DECIMAL(9,6)
           AS mediation_success_rate,
       escalations::BIGINT AS escalations
FROM g;

CREATE TABLE marts.mart_campaign_traffic AS
WITH f AS (
    SELECT f.*, s.station_name, s.bureau_name, s.city, s.province,
           unnest([f.violation_code, 'ALL']) AS code
    FROM marts.fct_traffic_violations f JOIN marts.dim_station s ON s.station_id = f.unit_id
    WHERE f.campaign_id IS NOT NULL)
SELECT campaign_id,
       CASE WHEN grouping(station_name) = 0 THEN 'station'
            WHEN grouping(bureau_name) = 0 THEN 'bureau'
            WHEN grouping(city) = 0 THEN 'city' ELSE 'province' END AS level,
       coalesce(station_name, bureau_name, city, province) AS unit_name,
       code AS violation_code, count(*)::BIGINT AS violations,
       sum(fine_yuan)::DECIMAL(18,2) AS fines_yuan
FROM f
GROUP BY GROUPING SETS ((campaign_id, code, station_name), (campaign_id, code, bureau_name),
                        (campaign_id, code, city), (campaign_id, code, province));
"""


# every station expected every day of the facts, each station-day reported (the facts)
COVERAGE = """
CREATE TABLE marts.mart_reporting_coverage AS
WITH facts AS (
    SELECT station_id, inspected_on AS day, 'inspections' AS record_type, count(*) AS n
    FROM marts.fct_inspections GROUP BY ALL
    UNION ALL SELECT station_id, reported_on, 'disputes', count(*) FROM marts.fct_disputes
    GROUP BY ALL
    UNION ALL SELECT unit_id, occurred_at::DATE, 'traffic', count(*)
    FROM marts.fct_traffic_violations GROUP BY ALL),
grid AS (
    SELECT s.*, t.record_type, d.day
    FROM marts.dim_station s,
         (SELECT unnest(['inspections', 'disputes', 'traffic']) AS record_type) t,
         (SELECT DISTINCT inspected_on AS day FROM marts.fct_inspections) d)
SELECT g.station_id, g.station_name, g.bureau_name, g.city, g.province, g.day,
       g.record_type, CASE WHEN f.n > 0 THEN 'REPORTED' ELSE 'MISSING' END AS status,
       CASE WHEN f.n > 0 THEN 1 ELSE 0 END::BIGINT AS files_received,
       coalesce(f.n, 0)::BIGINT AS records, coalesce(f.n, 0)::BIGINT AS rows_landed,
       0::BIGINT AS rows_quarantined, 0::BIGINT AS rows_held_back,
       TIMESTAMP '2022-07-11 08:00' AS first_arrival_at,
       TIMESTAMP '2022-07-11 08:00' AS last_arrival_at, false AS is_late
FROM grid g LEFT JOIN facts f USING (station_id, day, record_type);

CREATE TABLE marts.mart_reporting_coverage_rollup AS
SELECT CASE WHEN grouping(bureau_name) = 0 THEN 'bureau'
            WHEN grouping(city) = 0 THEN 'city' ELSE 'province' END AS level,
       coalesce(bureau_name, city, province) AS unit_name, day, record_type,
       count(*)::BIGINT AS stations_expected,
       count(*) FILTER (WHERE records > 0)::BIGINT AS stations_with_records,
       count(*) FILTER (WHERE status = 'MISSING')::BIGINT AS stations_missing,
       0::BIGINT AS stations_no_records, 0::BIGINT AS stations_partial,
       0::BIGINT AS stations_late, sum(records)::BIGINT AS records,
       sum(rows_landed)::BIGINT AS rows_landed, sum(rows_quarantined)::BIGINT AS rows_quarantined,
       sum(rows_held_back)::BIGINT AS rows_held_back,
       round(count(*) FILTER (WHERE status <> 'MISSING') / count(*), 6)::DECIMAL(9,6)
           AS coverage_rate
FROM marts.mart_reporting_coverage
GROUP BY GROUPING SETS ((day, record_type, bureau_name), (day, record_type, city),
                        (day, record_type, province))
"""

# the quality tables of the ledger and rejects above
QUALITY = """;
CREATE TABLE quality.file_ledger AS
SELECT md5(path || sha256)[:24] AS file_version_id, path, split_part(path, '/', 1) AS record_type,
       NULL::VARCHAR AS station_id, status, true AS is_current, 10::BIGINT AS rows_read,
       9::BIGINT AS rows_landed, 1::BIGINT AS rows_quarantined, 2::BIGINT AS lines_skipped,
       NULL::VARCHAR AS reason, NULL::VARCHAR AS superseded_by,
       TIMESTAMP '2022-07-11 08:00' AS first_seen_at
FROM ops.file_ledger;

CREATE TABLE quality.quarantine AS
SELECT 'model:' || record_type || ':' || record_id AS quarantine_id, 'model' AS stage,
       record_type, source_path AS file, sheet, line_number, station_id,
       NULL::DATE AS record_date, reason_code, message, raw_values::VARCHAR AS raw_values
FROM intermediate.int_rejected_rows;

CREATE TABLE quality.unknown_values AS
SELECT record_type, 'station' AS dimension, station_text AS raw_value, count(*)::BIGINT AS records,
       string_agg(source_path, '; ') AS files,
       'dbt_project/seeds/station_aliases.csv or raw/reference/stations*.csv' AS add_to
FROM intermediate.int_rejected_rows GROUP BY ALL;

CREATE TABLE quality.station_scorecard AS
SELECT station_id, station_name, date_trunc('month', day)::DATE AS month, 3::BIGINT AS files,
       0::BIGINT AS failed_files, sum(rows_landed)::BIGINT AS rows_landed,
       0::BIGINT AS rows_quarantined, 0::BIGINT AS rows_held_back,
       0::DECIMAL(9,6) AS quarantine_rate, count(*)::BIGINT AS expected_station_days,
       count(*) FILTER (WHERE status <> 'MISSING')::BIGINT AS reported_station_days,
       count(*) FILTER (WHERE status = 'MISSING')::BIGINT AS missing_station_days,
       0::BIGINT AS late_station_days,
       round(count(*) FILTER (WHERE status <> 'MISSING') / count(*), 6)::DECIMAL(9,6)
           AS coverage_rate
FROM marts.mart_reporting_coverage GROUP BY ALL
"""


def _landing_table(conn: duckdb.DuckDBPyConnection, record_type: str) -> None:
    key, date_col, station_col = LANDING[record_type]
    date_type = "TIMESTAMP" if date_col == "occurred_at" else "DATE"
    conn.execute(
        f"CREATE TABLE landing.{record_type} ({key} VARCHAR, {date_col} {date_type}, "
        f"{station_col} VARCHAR, _file_sha256 VARCHAR, _source_path VARCHAR, _sheet VARCHAR, "
        f"_line INTEGER, _exported_at TIMESTAMP, _first_seen_at TIMESTAMP)"
    )


def _staging_table(conn: duckdb.DuckDBPyConnection, record_type: str) -> None:
    """The stg_ model as the reconciliation reads it: every landed row of a loaded version,
    its record number (and its _number_hash, as dbt macro number_hash computes it) and
    normalised station text."""
    key, _, station_col = LANDING[record_type]
    match = "unit_match" if station_col == "unit" else "station_match"
    conn.execute(
        f"CREATE TABLE staging.stg_{record_type} AS SELECT l.{key}, "
        f"lower(l.{station_col}) AS {match}, v.status = 'loaded' AS _is_current, "
        f"v.file_version_id AS _file_version_id, "
        f"{STAMP} AS _staged_at, "
        f"CAST(md5_number(l.{key}) >> 65 AS UBIGINT) + CAST(9223372036854775808 AS UBIGINT) "
        f"AS _number_hash "
        f"FROM landing.{record_type} AS l JOIN ops.file_ledger AS v "
        f"ON v.path = l._source_path AND v.sha256 = l._file_sha256"
    )


def build(path: Path) -> Path:
    """Write the valid warehouse at ``path`` and return it."""
    conn = duckdb.connect(str(path))
    try:
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)
        for table, columns in (("file_ledger", LEDGER_COLUMNS), ("quarantine", QUARANTINE_COLUMNS)):
            body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            conn.execute(f"CREATE TABLE ops.{table} ({body})")  # the real ops tables
        conn.executemany(
            "INSERT INTO marts.dim_station VALUES (?, ?, ?, ?, ?, NULL, NULL)", STATIONS
        )
        conn.execute(
            "INSERT INTO marts.dim_campaign VALUES ('SUMMER_100D_2022', '百日行动', "
            "DATE '2022-06-25', DATE '2022-10-02')"
        )
        conn.executemany(
            "INSERT INTO marts.dim_venue_type VALUES (?, ?, ?)",
            [(v, f"标签{v}", v in NINE) for v in VENUES],
        )
        conn.executemany(
            "INSERT INTO marts.dim_violation_type VALUES (?, ?)",
            [(v, f"标签{v}") for v in VIOLATIONS],
        )
        for record_type in LANDING:
            _landing_table(conn, record_type)
            conn.execute(
                "INSERT INTO ops.file_ledger "
                "(file_version_id, record_type, path, sha256, status, first_seen_at) VALUES "
                "($rt || '-old', $rt, $rt || '/old.csv', 'old', 'loaded', TIMESTAMP '2022-07-05'), "
                "($rt || '-new', $rt, $rt || '/new.csv', 'new', 'loaded', TIMESTAMP '2022-07-11')",
                {"rt": record_type},
            )
        conn.executemany(
            "INSERT INTO intermediate.int_station_lookup VALUES (lower(?), ?)",
            [(name, sid) for sid, name, *_ in STATIONS],
        )

        inspections, disputes, traffic = [], [], []
        landing: dict[str, list[tuple]] = {rt: [] for rt in LANDING}
        exported = dt.datetime(2022, 7, 11, 8)
        for s, (station_id, name, *_rest) in enumerate(STATIONS):
            for d in range(DAYS):
                day = FIRST_DAY + dt.timedelta(days=d)
                for j in range(2):
                    n = s * 100 + d * 2 + j
                    found = n % 4
                    inspections.append(
                        (
                            f"I{n:04d}",
                            station_id,
                            day,
                            "SUMMER_100D_2022",
                            VENUES[n % 15],
                            f"venue {n % 7}",
                            found,
                            found - (n % 2 if found else 0),
                            n % 3,
                            n % 11 == 0,
                            2 if VENUES[n % 15] == "RENTAL_HOUSING" else 0,
                            5 if VENUES[n % 15] == "RENTAL_HOUSING" else 0,
                            "inspections/a.csv",
                            exported,
                        )
                    )
                    landing["inspections"].append((f"I{n:04d}", day, name))
                n = s * 100 + d
                resolved = n % 3 != 0
                mediation = ["SUCCESS", "FAILED", None][n % 3]
                disputes.append(
                    (
                        f"D{n:04d}",
                        station_id,
                        day,
                        "SUMMER_100D_2022",
                        ["CANVASS", "CALL", "GRID", "WALK_IN"][n % 4],
                        "NEIGHBOUR",
                        "LOW",
                        "RESOLVED" if resolved else "IN_MEDIATION",
                        day + dt.timedelta(days=1) if resolved else None,
                        "网格",
                        mediation,
                        n % 13 == 0,
                        n % 2,
                        f"party{n}",
                        "disputes/a.csv",
                        exported,
                    )
                )
                landing["disputes"].append((f"D{n:04d}", day, name))
                traffic.append(
                    (
                        f"T{n:04d}",
                        station_id,
                        dt.datetime.combine(day, dt.time(9, 30)),
                        "SUMMER_100D_2022",
                        "解放路",
                        VIOLATIONS[n % 10],
                        "ebike",
                        f"plate{n}",
                        ["WARNING", "EDUCATION", "FINE"][n % 3],
                        50 if n % 3 == 2 else 0,
                        "traffic/a.csv",
                        exported,
                    )
                )
                landing["traffic"].append((f"T{n:04d}", dt.datetime.combine(day, dt.time(9)), name))
        conn.executemany(
            f"INSERT INTO marts.fct_inspections VALUES ({', '.join('?' * 14)}, NULL)", inspections
        )
        conn.executemany(
            f"INSERT INTO marts.fct_disputes VALUES ({', '.join('?' * 16)}, NULL)", disputes
        )
        conn.executemany(
            f"INSERT INTO marts.fct_traffic_violations VALUES ({', '.join('?' * 12)}, NULL)",
            traffic,
        )
        for record_type, (table, key, station) in FACTS.items():  # station ':' number
            number = LANDING[record_type][0]
            conn.execute(f"UPDATE marts.{table} SET {key} = {station} || ':' || {number}")

        for record_type, rows in landing.items():
            key = LANDING[record_type][0]
            # every key landed twice (an older export is superseded) ...
            versions = []
            for line, (k, day, station) in enumerate(rows, start=2):
                versions.append(
                    (
                        k,
                        day,
                        station,
                        "old",
                        f"{record_type}/old.csv",
                        None,
                        line,
                        dt.datetime(2022, 7, 5),
                        dt.datetime(2022, 7, 5),
                    )
                )
                versions.append(
                    (
                        k,
                        day,
                        station,
                        "new",
                        f"{record_type}/new.csv",
                        None,
                        line,
                        dt.datetime(2022, 7, 11),
                        dt.datetime(2022, 7, 11),
                    )
                )
            # ... plus one key whose latest version the models rejected (unknown station)
            rejected = f"{key.upper()}_REJECTED"
            versions.append(
                (
                    rejected,
                    rows[0][1],
                    "某某所",
                    "new",
                    f"{record_type}/new.csv",
                    None,
                    999,
                    dt.datetime(2022, 7, 11),
                    dt.datetime(2022, 7, 11),
                )
            )
            conn.executemany(
                f"INSERT INTO landing.{record_type} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", versions
            )
            conn.execute(
                f"UPDATE ops.file_ledger AS v SET rows_landed = (SELECT count(*) "
                f"FROM landing.{record_type} AS l WHERE l._source_path = v.path "
                f"AND l._file_sha256 = v.sha256) WHERE record_type = ?",
                [record_type],
            )
            _staging_table(conn, record_type)
            conn.execute(
                "INSERT INTO intermediate.int_rejected_rows VALUES (?, ?, 'new', NULL, 999, "
                "'unknown_station', 'no station 某某所', '{}', ?, ?, '某某所', NULL)",
                [record_type, f"{record_type}/new.csv", rejected, f"?某某所:{rejected}"],
            )
        for statement in filter(str.strip, (MARTS + COVERAGE + QUALITY).split(";\n")):
            conn.execute(statement)
        for table, _, _ in FACTS.values():  # the batch stamp of the build that wrote them
            conn.execute(f"ALTER TABLE marts.{table} ADD COLUMN _resolved_at TIMESTAMP")
            conn.execute(f"UPDATE marts.{table} SET _resolved_at = {STAMP}")
        for statement in filter(
            str.strip, (STATION_DAILY_MONTHS + ";\n" + CAMPAIGN_BOOKKEEPING).split(";\n")
        ):
            conn.execute(statement)
    finally:
        conn.close()
    return path
