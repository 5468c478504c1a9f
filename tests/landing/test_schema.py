"""The landing contract of docs/architecture.md: tables, columns, types; reference stations."""

from __future__ import annotations

import pytest

from pipelines.landing import ensure_schema, land_reference_stations
from tests.landing.conftest import rows, write

pytestmark = pytest.mark.unit

LINEAGE = [
    ("_file_sha256", "VARCHAR"),
    ("_source_path", "VARCHAR"),
    ("_sheet", "VARCHAR"),
    ("_line", "INTEGER"),
    ("_exported_at", "TIMESTAMP"),
    ("_first_seen_at", "TIMESTAMP"),
    ("_mapping_version", "VARCHAR"),
    ("_station_source", "VARCHAR"),
    ("_extra", "JSON"),
    ("_run_id", "VARCHAR"),
]

# written out from docs/architecture.md on purpose (not derived from the code under test)
EXPECTED = {
    "landing.inspections": [
        ("inspection_id", "VARCHAR"),
        ("inspected_on", "DATE"),
        ("station", "VARCHAR"),
        ("venue_name", "VARCHAR"),
        ("venue_type", "VARCHAR"),
        ("venue_address", "VARCHAR"),
        ("hazards_found", "BIGINT"),
        ("hazards_rectified", "BIGINT"),
        ("notices_issued", "BIGINT"),
        ("closure_ordered", "BOOLEAN"),
        ("rental_households", "BIGINT"),
        ("rental_rooms", "BIGINT"),
        ("officer", "VARCHAR"),
        ("contact_phone", "VARCHAR"),
        ("remarks", "VARCHAR"),
        *LINEAGE,
    ],
    "landing.disputes": [
        ("dispute_id", "VARCHAR"),
        ("reported_on", "DATE"),
        ("station", "VARCHAR"),
        ("source", "VARCHAR"),
        ("dispute_type", "VARCHAR"),
        ("risk_level", "VARCHAR"),
        ("status", "VARCHAR"),
        ("resolved_on", "DATE"),
        ("mediation_channel", "VARCHAR"),
        ("mediation_result", "VARCHAR"),
        ("escalated_to_criminal", "BOOLEAN"),
        ("follow_up_visits", "BIGINT"),
        ("party_name", "VARCHAR"),
        ("party_id_number", "VARCHAR"),
        ("party_phone", "VARCHAR"),
        *LINEAGE,
    ],
    "landing.traffic": [
        ("ticket_id", "VARCHAR"),
        ("occurred_at", "TIMESTAMP"),
        ("unit", "VARCHAR"),
        ("road", "VARCHAR"),
        ("violation", "VARCHAR"),
        ("violation_code", "VARCHAR"),
        ("vehicle_type", "VARCHAR"),
        ("plate", "VARCHAR"),
        ("party_name", "VARCHAR"),
        ("party_id_number", "VARCHAR"),
        ("action", "VARCHAR"),
        ("fine_yuan", "BIGINT"),
        *LINEAGE,
    ],
    "landing.reference_stations": [
        ("station_id", "VARCHAR"),
        ("station_name", "VARCHAR"),
        ("bureau_name", "VARCHAR"),
        ("city", "VARCHAR"),
        ("province", "VARCHAR"),
        ("unit_type", "VARCHAR"),
        ("model_station_level", "VARCHAR"),
        ("model_station_year", "INTEGER"),
        ("alias", "VARCHAR"),
        ("_source_path", "VARCHAR"),
    ],
}
LEDGER = [
    "file_version_id",
    "path",
    "sha256",
    "size_bytes",
    "mtime",
    "record_type",
    "encoding",
    "sheets",
    "header_line",
    "mapping_version",
    "exported_at",
    "rows_read",
    "rows_landed",
    "rows_quarantined",
    "lines_skipped",
    "status",
    "error_message",
    "first_seen_at",
    "loaded_at",
    "run_id",
    "detail",
    "superseded_by",
    "retry",
    "current_since",
]
QUARANTINE = [
    "quarantine_id",
    "stage",
    "record_type",
    "source_path",
    "file_sha256",
    "sheet",
    "line_number",
    "reason_code",
    "message",
    "raw_values",
    "run_id",
    "quarantined_at",
    "station_text",
    "record_date",
]


def _columns(conn, table):
    schema, name = table.split(".")
    return rows(
        conn,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        schema,
        name,
    )


def test_tables_match_the_contract_and_schema_is_idempotent(conn):
    ensure_schema(conn)  # second call on the same database
    for table, expected in EXPECTED.items():
        assert _columns(conn, table) == expected, table
    assert [c for c, _ in _columns(conn, "ops.file_ledger")] == LEDGER
    assert [c for c, _ in _columns(conn, "ops.quarantine")] == QUARANTINE


def test_reference_stations_are_replaced_each_run(conn, raw):
    assert land_reference_stations(conn, raw) == 0  # no folder: empty table, no error
    header = (
        "station_id,station_name,bureau_name,city,province,unit_type,model_station_level,"
        "model_station_year,alias\n"
    )
    write(
        raw,
        "reference/stations_extra.csv",
        header + "NB_X,新所,某分局,宁波市,浙江省,station,city,2021,新所别名\n",
        "utf-8-sig",
    )
    write(raw, "reference/stations_more.csv", header + "NB_Y,另所,,,,,,,\n")
    write(raw, "reference/other.csv", header + "NB_Z,不读,,,,,,,\n")
    assert land_reference_stations(conn, raw) == 2
    assert land_reference_stations(conn, raw) == 2
    assert rows(
        conn,
        "SELECT station_id, model_station_year, alias, _source_path "
        "FROM landing.reference_stations ORDER BY 1",
    ) == [
        ("NB_X", 2021, "新所别名", "reference/stations_extra.csv"),
        ("NB_Y", None, None, "reference/stations_more.csv"),
    ]


def test_a_ledger_from_before_versions_replaced_each_other_is_migrated():
    import duckdb

    from pipelines.landing.schema import LEDGER_COLUMNS

    conn = duckdb.connect()
    old_ledger = {
        c: t
        for c, t in LEDGER_COLUMNS.items()
        if c not in ("superseded_by", "retry", "current_since")
    }
    conn.execute("CREATE SCHEMA ops")
    conn.execute(
        "CREATE TABLE ops.file_ledger ("
        + ", ".join(f"{c} {t}" for c, t in old_ledger.items())
        + ")"
    )
    conn.execute(
        "CREATE TABLE ops.quarantine ("
        + ", ".join(f"{c} VARCHAR" for c in QUARANTINE if c not in ("station_text", "record_date"))
        + ")"
    )
    for version, seen in (("v1", "2024-01-01"), ("v2", "2024-02-01")):
        conn.execute(
            "INSERT INTO ops.file_ledger (file_version_id, path, sha256, status, "
            "first_seen_at) VALUES (?, 'inspections/x.csv', ?, 'loaded', ?)",
            [version, version, seen],
        )
    ensure_schema(conn)
    assert [c for c, _ in _columns(conn, "ops.file_ledger")][-3:] == [
        "superseded_by",
        "retry",
        "current_since",
    ]
    assert [c for c, _ in _columns(conn, "ops.quarantine")][-2:] == ["station_text", "record_date"]
    assert rows(
        conn, "SELECT file_version_id, status, superseded_by FROM ops.file_ledger ORDER BY 1"
    ) == [("v1", "superseded", "v2"), ("v2", "loaded", None)]
    ensure_schema(conn)  # and again: nothing changes
    assert len(_columns(conn, "ops.file_ledger")) == len(LEDGER)
