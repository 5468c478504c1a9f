"""dbt models on hand-written landing rows (tests/dbt/landing.py): exact figures, corrections,
rejects, PII, incremental = full refresh, and an alias added to a seed re-accepting a row.

One module-scoped `dbt build` (fixture `built`) serves the read-only assertions; the
incremental and alias tests work on copies of its DuckDB file.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from pipelines.pii import MissingPiiKeyError, Plugin, keyed_hash, normalise_text
from pipelines.validation import check_specs
from pipelines.validation.compiled import read_manifest
from tests.dbt.conftest import PROJECT_DIR, REPO_ROOT, TEST_PII_KEY, Warehouse
from tests.dbt.landing import (
    INSPECTIONS_0710,
    LATER,
    PII_VALUES,
    T2,
    TRAFFIC_YUNCHENG,
    build_landing,
    land,
)

SUMMER = "SUMMER_100D_2022"
NB_2018 = "NB_OFFICERS_TO_GRASSROOTS_2018"
NB_TRAFFIC = "NB_CIVILISED_CITY_TRAFFIC_2020"
YANHU = ("运城市公安局盐湖分局", "运城市", "山西省")
HAISHU = ("古林派出所", "宁波市公安局海曙分局", "宁波市", "浙江省")
LEVELS = ("station", "bureau", "city", "province")

INSPECTION_FIGURES = (
    "venues_inspected",
    "inspection_visits",
    "hazards_found",
    "hazards_rectified",
    "notices_issued",
    "closures_ordered",
    "rental_households",
    "rental_rooms",
)


def mart_rows(wh: Warehouse, mart: str, code_column: str, figures, campaign: str) -> set:
    cols = ", ".join(("level", "unit_name", code_column, *figures))
    return set(wh.query(f"SELECT {cols} FROM marts.{mart} WHERE campaign_id = ?", [campaign]))


def above_station(units: tuple[str, ...], rows: dict[str, tuple]) -> set:
    """The same figures at each of the given (bureau, city, province) units."""
    return {
        (level, unit, code, *figures)
        for level, unit in zip(("bureau", "city", "province"), units, strict=True)
        for code, figures in rows.items()
    }


def at_all_levels(units: tuple[str, ...], rows: dict[str, tuple]) -> set:
    return {
        (level, unit, code, *figures)
        for level, unit in zip(LEVELS, units, strict=True)
        for code, figures in rows.items()
    }


# ------------------------------------------------------------------ campaign marts


def test_campaign_inspections_exact(built):
    yanhu = {
        "SMALL_SHOP": (1, 2, 2, 2, 1, 0, 0, 0),
        "SMALL_NETCAFE": (1, 1, 1, 1, 0, 1, 0, 0),
        "RENTAL_HOUSING": (1, 1, 1, 0, 0, 0, 5, 20),
        "FOOT_MASSAGE": (1, 1, 2, 2, 1, 1, 0, 0),
        "ALL_NINE_SMALL": (2, 3, 3, 3, 1, 1, 0, 0),
        "ALL": (4, 5, 6, 5, 2, 2, 5, 20),
    }
    expected = (
        above_station(YANHU, yanhu)
        | {
            ("station", "三路里派出所", "SMALL_SHOP", 1, 2, 2, 2, 1, 0, 0, 0),
            ("station", "三路里派出所", "RENTAL_HOUSING", 1, 1, 1, 0, 0, 0, 5, 20),
            ("station", "三路里派出所", "ALL_NINE_SMALL", 1, 2, 2, 2, 1, 0, 0, 0),
            ("station", "三路里派出所", "ALL", 2, 3, 3, 2, 1, 0, 5, 20),
            ("station", "席张派出所", "SMALL_NETCAFE", 1, 1, 1, 1, 0, 1, 0, 0),
            ("station", "席张派出所", "ALL_NINE_SMALL", 1, 1, 1, 1, 0, 1, 0, 0),
            ("station", "席张派出所", "ALL", 1, 1, 1, 1, 0, 1, 0, 0),
            # full-width spelling ＹＣ＿ＹＨ＿ＢＥＩＣＨＥＮＧ resolved; no nine-small venue here
            ("station", "北城派出所", "FOOT_MASSAGE", 1, 1, 2, 2, 1, 1, 0, 0),
            ("station", "北城派出所", "ALL", 1, 1, 2, 2, 1, 1, 0, 0),
        }
        | at_all_levels(
            HAISHU, {"BATHHOUSE": (1, 1, 0, 0, 0, 1, 0, 0), "ALL": (1, 1, 0, 0, 0, 1, 0, 0)}
        )
    )
    got = mart_rows(
        built, "mart_campaign_inspections", "venue_type_code", INSPECTION_FIGURES, SUMMER
    )
    assert got == expected, (sorted(got - expected), sorted(expected - got))

    # Ningbo's 2018 campaign (city scope 宁波市): the 2018 inspection only
    expected_2018 = at_all_levels(
        HAISHU,
        {code: (1, 1, 1, 0, 0, 0, 0, 0) for code in ("SMALL_RESTAURANT", "ALL_NINE_SMALL", "ALL")},
    )
    assert (
        mart_rows(
            built, "mart_campaign_inspections", "venue_type_code", INSPECTION_FIGURES, NB_2018
        )
        == expected_2018
    )

    # rates beside numerator and denominator; labels beside codes
    assert built.query(
        "SELECT rectification_rate, venue_type_label FROM marts.mart_campaign_inspections "
        "WHERE campaign_id = ? AND level = 'city' AND unit_name = '运城市' "
        "AND venue_type_code IN ('ALL', 'ALL_NINE_SMALL') ORDER BY venue_type_code",
        [SUMMER],
    ) == [(Decimal("0.833333"), "全部"), (Decimal("1.000000"), "九小场所")]


def test_campaign_disputes_exact(built):
    figures = (
        "disputes_found",
        "disputes_resolved",
        "resolution_rate",
        "mediations",
        "mediation_successes",
        "mediation_success_rate",
        "escalations",
    )
    one, half, two_thirds, zero = (
        Decimal("1.000000"),
        Decimal("0.500000"),
        Decimal("0.666667"),
        Decimal("0.000000"),
    )
    expected = above_station(
        YANHU,
        {
            "CANVASS": (1, 1, one, 1, 1, one, 0),  # D1 counted once, as resolved (corrected)
            "CALL": (2, 1, half, 2, 1, half, 1),
            "ALL": (3, 2, two_thirds, 3, 2, two_thirds, 1),
        },
    ) | {
        ("station", "三路里派出所", "CANVASS", 1, 1, one, 1, 1, one, 0),
        ("station", "三路里派出所", "CALL", 1, 1, one, 1, 1, one, 0),
        ("station", "三路里派出所", "ALL", 2, 2, one, 2, 2, one, 0),
        ("station", "席张派出所", "CALL", 1, 0, zero, 1, 0, zero, 1),
        ("station", "席张派出所", "ALL", 1, 0, zero, 1, 0, zero, 1),
    }
    got = mart_rows(built, "mart_campaign_disputes", "source_code", figures, SUMMER)
    assert got == expected, (sorted(got - expected), sorted(expected - got))
    assert built.query("SELECT DISTINCT campaign_id FROM marts.mart_campaign_disputes") == [
        (SUMMER,)
    ]


def test_campaign_traffic_exact(built):
    figures = ("violations", "fines_yuan")
    expected_nb = (
        {
            ("station", "古林派出所", "EBIKE_NO_HELMET", 1, 0),
            ("station", "古林派出所", "ALL", 1, 0),
            ("station", "高桥派出所", "NMV_RED_LIGHT", 1, 50),  # violation_code wins over the text
            ("station", "高桥派出所", "ALL", 1, 50),
        }
        | above_station(
            HAISHU[1:], {"EBIKE_NO_HELMET": (1, 0), "NMV_RED_LIGHT": (1, 50), "ALL": (2, 50)}
        )
    )
    assert (
        mart_rows(built, "mart_campaign_traffic", "violation_code", figures, NB_TRAFFIC)
        == expected_nb
    )
    expected_yc = at_all_levels(("三路里派出所", *YANHU), {"PED_RED_LIGHT": (1, 0), "ALL": (1, 0)})
    assert (
        mart_rows(built, "mart_campaign_traffic", "violation_code", figures, SUMMER) == expected_yc
    )


def test_station_daily_counts_records_outside_campaigns(built):
    rows = built.query(
        "SELECT station_id, day, inspection_visits, hazards_found, hazards_rectified, "
        "rectification_rate, disputes_found, disputes_call, traffic_violations, traffic_fines, "
        "fines_yuan FROM marts.mart_station_daily WHERE (station_id, day) IN "
        "(('YC_YH_SANLULI', DATE '2022-06-01'), ('NB_HS_GULIN', DATE '2019-01-01'), "
        "('YC_YH_SANLULI', DATE '2022-07-02')) ORDER BY day"
    )
    assert rows == [
        ("NB_HS_GULIN", date(2019, 1, 1), 0, 0, 0, None, 0, 0, 1, 1, 200),
        ("YC_YH_SANLULI", date(2022, 6, 1), 1, 3, 3, Decimal("1.000000"), 0, 0, 0, 0, 0),
        ("YC_YH_SANLULI", date(2022, 7, 2), 0, 0, 0, None, 1, 1, 0, 0, 0),
    ]
    # campaign_id is NULL outside every campaign
    assert built.query(
        "SELECT campaign_id FROM marts.fct_inspections WHERE inspection_id = 'I7' "
        "UNION ALL SELECT campaign_id FROM marts.fct_traffic_violations "
        "WHERE ticket_id = 'T6'"
    ) == [(None,), (None,)]


# ------------------------------------------------------------------ corrections, rejects


def test_latest_export_wins_and_absent_records_stay(built):
    assert built.query(
        "SELECT hazards_rectified, source_file, exported_at::DATE, landed_versions "
        "FROM marts.fct_inspections WHERE inspection_id = 'I1'"
    ) == [(2, "inspections/yuncheng/检查登记表_20220720.csv", date(2022, 7, 20), 2)]
    assert built.query(
        "SELECT status_code, status_label, resolved_on, mediation_result_code, "
        "follow_up_visits FROM marts.fct_disputes WHERE dispute_id = 'D1'"
    ) == [("RESOLVED", "已化解", date(2022, 7, 12), "SUCCESS", 2)]
    # I2, I3, I5, I7 are absent from the later cumulative export: not deleted
    assert {r[0] for r in built.query("SELECT inspection_id FROM marts.fct_inspections")} == {
        "I1",
        "I2",
        "I3",
        "I5",
        "I7",
        "I8",
        "I9",
        "I10",
    }
    assert built.query("SELECT count(*) FROM marts.fct_disputes")[0][0] == 3
    assert built.query("SELECT count(*) FROM marts.fct_traffic_violations")[0][0] == 4


def test_station_and_code_resolution(built):
    stations = dict(built.query("SELECT inspection_id, station_id FROM marts.fct_inspections"))
    assert stations["I2"] == "YC_YH_XIZHANG"  # "盐湖分局 席张派出所": bureau prefix and a space
    assert stations["I8"] == "YC_YH_BEICHENG"  # full-width station id
    assert stations["I10"] == "NB_HS_GULIN"  # "海曙分局古林派出所"
    assert built.query(
        "SELECT unit_id, violation_code, violation_label, action_code, "
        "action_label FROM marts.fct_traffic_violations WHERE ticket_id = 'T2'"
    ) == [("NB_HS_GAOQIAO", "NMV_RED_LIGHT", "非机动车闯红灯", "FINE", "罚款")]


def test_rejected_rows_with_reasons(built):
    rows = set(
        built.query(
            "SELECT record_type, record_id, reason_code, message, source_path, line_number "
            "FROM intermediate.int_rejected_rows"
        )
    )
    assert rows == {
        (
            "inspections",
            "I4",
            "unknown_station",
            "unknown station '西城派出所'",
            "inspections/yuncheng/检查登记表_20220710.csv",
            8,
        ),
        (
            "inspections",
            "I6",
            "unmapped_value",
            "unmapped venue_type '小卖部'",
            "inspections/yuncheng/检查登记表_20220710.csv",
            10,
        ),
        (
            "disputes",
            "D4",
            "unmapped_value",
            "unmapped source '微信群'",
            "disputes/yuncheng/纠纷台账_0710.csv",
            8,
        ),
        (
            "traffic",
            "T3",
            "unmapped_value",
            "unmapped violation_code '9999'",
            "traffic/ningbo/2020-06.csv",
            7,
        ),
        (
            "traffic",
            "T4",
            "unknown_station",
            "unknown station '海曙交警中队'",
            "traffic/ningbo/2020-06.csv",
            8,
        ),
    }
    raw = built.query(
        "SELECT raw_values->>'station', file_sha256 IS NOT NULL, sheet "
        "FROM intermediate.int_rejected_rows WHERE record_id = 'I4'"
    )
    assert raw == [("西城派出所", True, None)]


# ------------------------------------------------------------------ PII, types

# as tests/e2e: word boundaries, so a hex digest (letters are word characters) never matches
ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
PHONE = re.compile(r"\b1\d{10}\b")
PLATE = re.compile(r"[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}")


def test_no_personal_data_after_staging(built):
    # tables and views (the facts are views over the int_ models)
    tables = built.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'intermediate', 'marts')"
    )
    assert len(tables) >= 20
    for schema, table in tables:
        for row in built.query(f"SELECT * FROM {schema}.{table}"):
            for value in row:
                text = str(value)
                assert not ID_NUMBER.search(text), (table, text)
                assert not PHONE.search(text), (table, text)
                assert not PLATE.search(text), (table, text)
                assert not any(pii in text for pii in PII_VALUES), (table, text)


def test_keyed_hashes(built):
    assert built.query(
        "SELECT plate_key, party_key FROM marts.fct_traffic_violations WHERE ticket_id = 'T1'"
    ) == [(keyed_hash("浙B12345", TEST_PII_KEY), keyed_hash("330203199003033333", TEST_PII_KEY))]
    assert built.query("SELECT party_key FROM marts.fct_disputes WHERE dispute_id = 'D1'") == [
        (keyed_hash("140802199001011234", TEST_PII_KEY),)
    ]
    assert built.query(
        "SELECT plate_key FROM marts.fct_traffic_violations WHERE ticket_id = 'T5'"
    ) == [(None,)]


def test_keyed_hash_and_normalisation_rules(monkeypatch):
    assert keyed_hash(" 浙ｂ １２３４５ ", "k") == keyed_hash("浙B12345", "k")
    assert keyed_hash("浙B12345", "k") != keyed_hash("浙B12345", "other")
    assert len(keyed_hash("浙B12345", "k")) == 64 and keyed_hash(None, "k") is None
    assert normalise_text("盐湖分局　席张 所") == "盐湖分局席张所"
    assert normalise_text("ＹＣ＿ＹＨ＿ＢＥＩＣＨＥＮＧ") == "yc_yh_beicheng"
    monkeypatch.delenv("WAREHOUSE_PII_KEY", raising=False)
    with pytest.raises(MissingPiiKeyError, match="WAREHOUSE_PII_KEY"):
        Plugin("pii", {})


PUBLISHED = {
    "dim_station": "station_id station_name bureau_name city province model_station_level "
    "model_station_year",
    "dim_campaign": "campaign_id campaign_name starts_on ends_on",
    "dim_venue_type": "venue_type_code label_zh",
    "dim_violation_type": "violation_code label_zh",
    "fct_inspections": "inspection_id station_id inspected_on campaign_id venue_type_code "
    "hazards_found hazards_rectified notices_issued closure_ordered "
    "rental_households rental_rooms source_file exported_at",
    "fct_disputes": "dispute_id station_id reported_on campaign_id source_code dispute_type "
    "risk_level_code status_code resolved_on mediation_channel "
    "mediation_result_code escalated_to_criminal follow_up_visits party_key "
    "source_file exported_at",
    "fct_traffic_violations": "ticket_id unit_id occurred_at campaign_id road violation_code "
    "vehicle_type plate_key action_code fine_yuan source_file "
    "exported_at",
    "mart_station_daily": "station_id day",
    "mart_campaign_inspections": "campaign_id level unit_name venue_type_code venues_inspected "
    "inspection_visits hazards_found hazards_rectified "
    "notices_issued closures_ordered rental_households "
    "rental_rooms",
    "mart_campaign_disputes": "campaign_id level unit_name source_code disputes_found "
    "disputes_resolved resolution_rate mediations "
    "mediation_successes escalations",
    "mart_campaign_traffic": "campaign_id level unit_name violation_code violations fines_yuan",
}


def test_published_columns_and_types(built):
    columns = built.query(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'marts'"
    )
    types = {(t, c): d for t, c, d in columns}
    for table, names in PUBLISHED.items():
        for name in names.split():
            assert (table, name) in types, (table, name)
    assert not [k for k, d in types.items() if d in ("HUGEINT", "DOUBLE", "FLOAT")]
    for (table, column), data_type in types.items():
        if column.endswith("_rate"):
            assert data_type == "DECIMAL(9,6)", (table, column)
        if (
            table.startswith("mart_")
            and column not in ("day",)
            and not column.startswith("_")  # bookkeeping, never published
            and data_type not in ("VARCHAR", "DECIMAL(9,6)")
            and not column.startswith("is_")
            and not column.endswith("_at")
        ):
            assert data_type == "BIGINT", (table, column, data_type)
    assert types[("fct_inspections", "closure_ordered")] == "BOOLEAN"
    assert types[("fct_traffic_violations", "fine_yuan")] == "BIGINT"
    # every published table and column is documented in the database (persist_docs)
    undocumented = built.query(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND coalesce(comment, '') = ''"
    )
    assert undocumented == []


# ------------------------------------------------------------------ contracts, dbt's tests


def test_every_published_model_has_an_enforced_contract(built):
    """The published tables (those a suite guards) have `contract: enforced` with a type for
    every column, in the order the table has them; the build compiled the check models."""
    manifest = built.home / "dbt_target" / "manifest.json"
    nodes = {
        n["name"]: n
        for n in json.loads(manifest.read_text())["nodes"].values()
        if n["resource_type"] == "model"
    }
    published = {spec.table for spec in check_specs(REPO_ROOT / "expectations")}
    assert len(published) == 17
    for name in published:
        node = nodes[name]
        assert node["config"]["contract"]["enforced"], name
        columns = built.query(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [node["schema"], name],
        )
        declared = [
            (
                c["name"],
                c["data_type"].upper().replace(",", ", ")
                if "decimal" in c["data_type"]
                else c["data_type"].upper(),
            )
            for c in node["columns"].values()
        ]
        assert [
            (c, t.replace(",", ", ") if t.startswith("DECIMAL") else t) for c, t in columns
        ] == declared, name
    # `dbt build` compiled every check model the suites read (ephemeral: nothing was built)
    compiled = read_manifest(manifest)
    assert compiled.complete and len(compiled.checks) == 60
    assert not built.query(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'check\\_%' ESCAPE '\\'"
    )


def test_a_contract_rejects_a_wrong_type(built, tmp_path):
    """A model whose SQL yields another type than its contract fails to build and leaves the
    published table as it was: an INTEGER count in a (incremental) campaign mart, a DOUBLE
    in a fact view."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    mart = project / "models" / "marts" / "mart_campaign_traffic.sql"
    text = mart.read_text(encoding="utf-8")
    assert "cast(count(*) as bigint) as violations," in text
    mart.write_text(
        text.replace(
            "cast(count(*) as bigint) as violations,", "cast(count(*) as integer) as violations,"
        ),
        encoding="utf-8",
    )
    view = project / "models" / "marts" / "fct_inspections.sql"
    text = view.read_text(encoding="utf-8")
    view.write_text(
        text.replace(
            "    i.hazards_found,\n", "    cast(i.hazards_found as double) as hazards_found,\n"
        ),
        encoding="utf-8",
    )
    wh = built.copy_to(tmp_path / "home", project_dir=project)
    before = wh.query("SELECT * FROM marts.mart_campaign_traffic ORDER BY ALL")
    result = wh.dbt("run", "--select", "mart_campaign_traffic", "fct_inspections", succeed=False)
    assert result.stdout.count("This model has an enforced contract that failed") == 2
    assert re.search(r"violations\s*\|\s*INTEGER\s*\|\s*BIGINT", result.stdout)
    assert re.search(r"hazards_found\s*\|\s*DOUBLE\s*\|\s*BIGINT", result.stdout)
    assert set(wh.run_results().values()) == {"error"}
    assert wh.query("SELECT * FROM marts.mart_campaign_traffic ORDER BY ALL") == before
    assert wh.query(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = "
        "'fct_inspections' AND column_name = 'hazards_found'"
    ) == [("BIGINT",)]


def test_integrity_tests_and_unit_tests_fail(built, tmp_path):
    """A repeated key fails its dbt test; a rate() that rounds in floating point fails the
    unit test of the rounding (and only it)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    macros = project / "macros" / "warehouse.sql"
    text = macros.read_text(encoding="utf-8")
    start = text.index("{% macro rate(numerator, denominator) -%}")
    end = text.index("{%- endmacro %}", start)
    macros.write_text(
        text[:start] + "{% macro rate(numerator, denominator) -%}\n"
        "    case when ({{ denominator }}) > 0 then cast(round(({{ numerator }})"
        " / ({{ denominator }}), 6) as decimal(9, 6)) end\n" + text[end:],
        encoding="utf-8",
    )
    wh = built.copy_to(tmp_path / "home", project_dir=project)
    with duckdb.connect(str(wh.path)) as conn:
        conn.execute(
            "INSERT INTO marts.dim_station SELECT * FROM marts.dim_station "
            "WHERE station_id = 'YC_YH_BEICHENG'"
        )
    wh.dbt("test", "--select", "dim_station", "test_type:unit", succeed=False)
    results = wh.run_results()
    failing = {
        uid.split(".")[2] for uid, status in results.items() if status not in ("pass", "success")
    }
    assert failing == {"unique_dim_station_station_id", "mart_station_daily"}, results
    assert (
        results["unit_test.campaign_metrics.mart_station_daily.rates_round_half_up_in_integers"]
        == "fail"
    )
    assert sum(uid.startswith("unit_test.") for uid in results) == 3


def test_a_record_key_repeated_in_the_latest_batch_fails_its_test(built, tmp_path):
    """The record keys' unique_in_batch tests (which read only the latest build's rows) fail
    on a key written twice by that build, in the int_ model and in its fact view."""
    wh = built.copy_to(tmp_path / "home")
    with duckdb.connect(str(wh.path)) as conn:
        conn.execute(
            "INSERT INTO intermediate.int_traffic SELECT * FROM intermediate.int_traffic "
            "WHERE NOT is_rejected AND _resolved_at = "
            "(SELECT max(_resolved_at) FROM intermediate.int_traffic) LIMIT 1"
        )
    wh.dbt("test", "--select", "test_name:unique_in_batch", succeed=False)
    results = wh.run_results()
    assert len(results) == 6, results  # the record key of each int_ model and fact view
    failing = {uid.split(".")[2] for uid, status in results.items() if status != "pass"}
    assert failing == {
        "unique_in_batch_int_traffic_ticket_key",
        "unique_in_batch_fct_traffic_violations_ticket_key",
    }, results


# ------------------------------------------------------------------ incremental, aliases


def snapshot(wh: Warehouse) -> dict[str, list]:
    """Every model table, without the batch stamps (which record when, not what)."""
    stamps = (
        "_staged_at",
        "_resolved_at",
        "computed_at",
        "_fact_fingerprint",
        "staged_through",
        "_built_at",
        "_fingerprint",  # holds the largest _resolved_at of its month
    )
    result = {}
    for schema, table in wh.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'intermediate', 'marts')"
    ):
        cols = [
            c
            for (c,) in wh.query(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index",
                [schema, table],
            )
            if c not in stamps
        ]
        rows = wh.query(f"SELECT {', '.join(cols)} FROM {schema}.{table}")
        result[f"{schema}.{table}"] = sorted(rows, key=repr)
    return result


FACT_DAYS = {
    "fct_inspections": ("inspection_key", "inspected_on"),
    "fct_disputes": ("dispute_key", "reported_on"),
    "fct_traffic_violations": ("ticket_key", "occurred_on"),
}


def fact_months(wh: Warehouse) -> set[tuple]:
    """(fact table, record key, month of its day, _resolved_at) of every fact row."""
    return {
        (table, key, month, stamp)
        for table, (key_column, day) in FACT_DAYS.items()
        for key, month, stamp in wh.query(
            f"SELECT {key_column}, date_trunc('month', {day})::DATE, _resolved_at "
            f"FROM marts.{table}"
        )
    }


def changed_fact_months(wh: Warehouse, before: set[tuple]) -> set[date]:
    """The months a fact row entered, left or was rewritten in since `before`."""
    return {month for _, _, month, _ in fact_months(wh) ^ before}


# older: a warehouse whose int_watermarks predates its reference_hash column resolves only the
# new numbers too (the int_ models compare the reference with their rows once), and its stg_
# and int_ tables, built before _number_hash, gain it on the night (macro add_number_hash),
# filled as a full build fills it
# a corrected ticket (a warning became a fine of 100 yuan): its campaign's figures change, not
# its number of fact rows
(_T5,) = TRAFFIC_YUNCHENG.rows
T5_CORRECTED = dataclasses.replace(
    TRAFFIC_YUNCHENG,
    exported_at=datetime(2022, 7, 6),
    first_seen_at=T2,
    rows=({**_T5, "action": "罚款", "fine_yuan": 100},),
)
T5_CAMPAIGN_TOTALS = (
    "SELECT violations, fines_yuan FROM marts.mart_campaign_traffic WHERE campaign_id = ? "
    "AND level = 'province' AND violation_code = 'ALL' AND unit_name = '山西省'"
)


NUMBER_HASH_TABLES = [
    f"{schema}.{prefix}_{record_type}"
    for schema, prefix in (("staging", "stg"), ("intermediate", "int"))
    for record_type in ("inspections", "disputes", "traffic")
]


@pytest.mark.parametrize("older", [False, True])
def test_incremental_run_equals_full_refresh(built, tmp_path, older):
    wh = built.copy_to(tmp_path / "home")
    before = fact_months(wh)
    ((violations, fines),) = wh.query(T5_CAMPAIGN_TOTALS, [SUMMER])
    with duckdb.connect(str(wh.path)) as conn:
        if older:
            conn.execute("ALTER TABLE intermediate.int_watermarks DROP COLUMN reference_hash")
            for table in NUMBER_HASH_TABLES:
                conn.execute(f"ALTER TABLE {table} DROP COLUMN _number_hash")
        for export in (*LATER, T5_CORRECTED):  # a new landing run
            land(conn, export, run_id="second-run")
    wh.dbt("build")
    # the corrected ticket's campaign was recomputed, although its number of fact rows is the
    # same (its fingerprint: count and largest _resolved_at, macro campaign_fingerprints)
    assert wh.query(T5_CAMPAIGN_TOTALS, [SUMMER]) == [(violations, fines + 100)]
    # only the file versions of the new landing run were staged again: the two new files and
    # the 0710 version, which gained a released row (all its rows are re-staged; the row keeps
    # its file's old first_seen_at); the other versions' rows were left alone
    restaged = wh.query(
        "SELECT DISTINCT source_file FROM staging.stg_inspections "
        "WHERE _staged_at = (SELECT max(_staged_at) "
        "FROM staging.stg_inspections)"
    )
    assert {r[0] for r in restaged} == {e.path for e in LATER}
    # ...and only the record numbers found in them were resolved again
    resolved = wh.query(
        "SELECT inspection_id FROM intermediate.int_inspections "
        "WHERE _resolved_at = (SELECT max(_resolved_at) "
        "FROM intermediate.int_inspections)"
    )
    assert {r[0] for r in resolved} == {
        r["inspection_id"] for e in (*LATER, INSPECTIONS_0710) for r in e.rows
    }
    # I9 moved out of the 2018 campaign, its only record: the campaign's mart rows are gone
    assert wh.query("SELECT campaign_id FROM marts.fct_inspections WHERE inspection_id = 'I9'") == [
        (None,)
    ]
    assert wh.query(
        "SELECT count(*) FROM marts.mart_campaign_inspections WHERE campaign_id = ?", [NB_2018]
    ) == [(0,)]
    assert wh.query(
        "SELECT station_id, hazards_found, hazards_rectified FROM "
        "marts.fct_inspections WHERE inspection_id IN ('I2', 'I11') ORDER BY 1"
    ) == [("YC_YH_TAOCUN", 1, 1), ("YC_YH_XIZHANG", 3, 1)]
    assert wh.query(
        "SELECT venue_type_code, venues_inspected, inspection_visits, hazards_found, "
        "hazards_rectified, notices_issued, closures_ordered FROM "
        "marts.mart_campaign_inspections WHERE campaign_id = ? AND level = 'city' "
        "AND venue_type_code IN ('ALL', 'ALL_NINE_SMALL', 'SMALL_NETCAFE') "
        "AND unit_name = '运城市' ORDER BY 1",
        [SUMMER],
    ) == [
        ("ALL", 6, 7, 10, 6, 2, 2),
        ("ALL_NINE_SMALL", 4, 5, 7, 4, 1, 1),
        ("SMALL_NETCAFE", 1, 1, 3, 1, 0, 1),
    ]
    # mart_station_daily recomputed the months whose facts changed, and only those
    rebuilt = wh.query(
        "SELECT DISTINCT _month FROM marts.mart_station_daily WHERE _built_at = "
        "(SELECT max(_built_at) FROM marts.mart_station_daily) ORDER BY 1"
    )
    months = {m for (m,) in wh.query("SELECT DISTINCT _month FROM marts.mart_station_daily")}
    changed = changed_fact_months(wh, before)
    assert {m for (m,) in rebuilt} == changed & months
    assert changed - months  # a month left without facts (I9's) lost its rows: see below
    assert months - changed  # months whose facts did not change were not rewritten
    for table in NUMBER_HASH_TABLES:
        assert wh.query(f"SELECT count(*) FROM {table} WHERE _number_hash IS NULL") == [(0,)]
    incremental = snapshot(wh)

    # the reference: everything rebuilt from the landing tables (models only; the dbt tests
    # already ran on the incremental state above)
    wh.dbt("run", "--full-refresh")
    assert snapshot(wh) == incremental


@pytest.mark.slow  # a warehouse of its own, built three times (60 s): `make test-slow`, in CI
def test_numbers_that_share_a_hash_are_resolved_together(tmp_path):
    """The int_ models find a night's history rows and delete by _number_hash (macro
    number_hash). With a hash that gives every number of the same length one value, most
    numbers collide: a night must still equal a full refresh (no record lost, none doubled)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    macros = project / "macros" / "resolution.sql"
    text, n = re.subn(
        r"(\{% macro number_hash\(number\) -%\}).*?(\{%- endmacro %\})",
        r"\1 cast(9223372036854775808 + length({{ number }}) as ubigint) \2",
        macros.read_text(),
        flags=re.S,
    )
    assert n == 1
    macros.write_text(text)
    home = tmp_path / "home"
    home.mkdir()
    build_landing(home / "warehouse.duckdb")
    wh = Warehouse(home=home, project_dir=project)
    wh.dbt("build")
    assert (
        wh.query("SELECT count(DISTINCT _number_hash) FROM staging.stg_inspections")[0][0]
        < (wh.query("SELECT count(DISTINCT inspection_id) FROM staging.stg_inspections")[0][0])
    )
    with duckdb.connect(str(wh.path)) as conn:
        for export in (*LATER, T5_CORRECTED):
            land(conn, export, run_id="second-run")
    wh.dbt("build")
    incremental = snapshot(wh)
    wh.dbt("run", "--full-refresh")
    assert snapshot(wh) == incremental


MONTH_COLUMNS = {
    "marts.mart_station_daily": ("_month", "_fingerprint", "_built_at", "_tombstone"),
    "intermediate.int_station_days": ("_month", "_fingerprint", "_tombstone"),
}
CAMPAIGN_MARTS = [
    "marts.mart_campaign_inspections",
    "marts.mart_campaign_disputes",
    "marts.mart_campaign_traffic",
]


def test_tables_written_before_their_bookkeeping_columns_are_rebuilt(built, tmp_path):
    """A warehouse whose tables predate their month bookkeeping (macros/months.sql) or, for
    the campaign marts, their `_built_at` (the reconciliation's rows_since): the next build
    recomputes every month and every campaign, the rows without a month are deleted, no row
    is left without its stamp, and each table equals a full refresh."""
    wh = built.copy_to(tmp_path / "home")
    dropped = {**MONTH_COLUMNS, **{mart: ("_built_at",) for mart in CAMPAIGN_MARTS}}
    rows = {}
    with duckdb.connect(str(wh.path)) as conn:
        for relation, columns in dropped.items():
            for column in columns:
                conn.execute(f"ALTER TABLE {relation} DROP COLUMN {column}")
            rows[relation] = conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    models = [relation.split(".")[1] for relation in dropped]
    wh.dbt("build", "--select", *models)
    for relation, n in rows.items():
        if relation in MONTH_COLUMNS:
            assert wh.query(
                f"SELECT count(*), count(_month), count(*) FILTER (WHERE _tombstone) "
                f"FROM {relation}"
            ) == [(n, n, 0)], relation
        else:
            assert n and wh.query(f"SELECT count(*), count(_built_at) FROM {relation}") == [
                (n, n)
            ], relation
    upgraded = snapshot(wh)
    wh.dbt("run", "--full-refresh", "--select", *models)
    refreshed = snapshot(wh)
    for relation in dropped:
        assert refreshed[relation] == upgraded[relation], relation


def test_alias_added_to_seed_reaccepts_held_back_rows(built, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    with open(project / "seeds" / "station_aliases.csv", "a", encoding="utf-8") as f:
        f.write("西城派出所,YC_YH_TAOCUN\n")
    wh = built.copy_to(tmp_path / "home", project_dir=project)
    wh.dbt("build")
    assert wh.query(
        "SELECT station_id, venue_type_code, campaign_id, hazards_found FROM "
        "marts.fct_inspections WHERE inspection_id = 'I4'"
    ) == [("YC_YH_TAOCUN", "SMALL_RESTAURANT", SUMMER, 4)]
    assert {r[0] for r in wh.query("SELECT record_id FROM intermediate.int_rejected_rows")} == {
        "I6",
        "D4",
        "T3",
        "T4",
    }
    assert wh.query(
        "SELECT hazards_found FROM marts.mart_campaign_inspections WHERE "
        "campaign_id = ? AND level = 'province' AND unit_name = '山西省' "
        "AND venue_type_code = 'ALL'",
        [SUMMER],
    ) == [(10,)]
