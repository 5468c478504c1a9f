"""Hand-written landing tables (docs/architecture.md, "Landing contract") for the dbt tests.

Every figure the tests assert is computed by hand from the rows below; see test_models.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from pipelines.landing.ledger import LedgerRow, insert_ledger_rows, make_current
from pipelines.landing.schema import ensure_schema

LINEAGE = """
    _file_sha256 VARCHAR, _source_path VARCHAR, _sheet VARCHAR, _line INTEGER,
    _exported_at TIMESTAMP, _first_seen_at TIMESTAMP, _mapping_version VARCHAR,
    _station_source VARCHAR, _extra JSON, _run_id VARCHAR"""

DDL = f"""
CREATE SCHEMA IF NOT EXISTS landing;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE landing.inspections (
    inspection_id VARCHAR, inspected_on DATE, station VARCHAR, venue_name VARCHAR,
    venue_type VARCHAR, venue_address VARCHAR, hazards_found BIGINT, hazards_rectified BIGINT,
    notices_issued BIGINT, closure_ordered BOOLEAN, rental_households BIGINT,
    rental_rooms BIGINT, officer VARCHAR, contact_phone VARCHAR, remarks VARCHAR, {LINEAGE});
CREATE TABLE landing.disputes (
    dispute_id VARCHAR, reported_on DATE, station VARCHAR, source VARCHAR,
    dispute_type VARCHAR, risk_level VARCHAR, status VARCHAR, resolved_on DATE,
    mediation_channel VARCHAR, mediation_result VARCHAR, escalated_to_criminal BOOLEAN,
    follow_up_visits BIGINT, party_name VARCHAR, party_id_number VARCHAR, party_phone VARCHAR,
    {LINEAGE});
CREATE TABLE landing.traffic (
    ticket_id VARCHAR, occurred_at TIMESTAMP, unit VARCHAR, road VARCHAR, violation VARCHAR,
    violation_code VARCHAR, vehicle_type VARCHAR, plate VARCHAR, party_name VARCHAR,
    party_id_number VARCHAR, action VARCHAR, fine_yuan BIGINT, {LINEAGE});
CREATE TABLE landing.reference_stations (
    station_id VARCHAR, station_name VARCHAR, bureau_name VARCHAR, city VARCHAR,
    province VARCHAR, unit_type VARCHAR, model_station_level VARCHAR,
    model_station_year INTEGER, alias VARCHAR, _source_path VARCHAR);
"""

FIELDS = {
    "inspections": [
        "inspection_id",
        "inspected_on",
        "station",
        "venue_name",
        "venue_type",
        "venue_address",
        "hazards_found",
        "hazards_rectified",
        "notices_issued",
        "closure_ordered",
        "rental_households",
        "rental_rooms",
        "officer",
        "contact_phone",
        "remarks",
    ],
    "disputes": [
        "dispute_id",
        "reported_on",
        "station",
        "source",
        "dispute_type",
        "risk_level",
        "status",
        "resolved_on",
        "mediation_channel",
        "mediation_result",
        "escalated_to_criminal",
        "follow_up_visits",
        "party_name",
        "party_id_number",
        "party_phone",
    ],
    "traffic": [
        "ticket_id",
        "occurred_at",
        "unit",
        "road",
        "violation",
        "violation_code",
        "vehicle_type",
        "plate",
        "party_name",
        "party_id_number",
        "action",
        "fine_yuan",
    ],
}
COUNTS = {
    "hazards_found",
    "hazards_rectified",
    "notices_issued",
    "rental_households",
    "rental_rooms",
    "follow_up_visits",
    "fine_yuan",
}
BOOLEANS = {"closure_ordered", "escalated_to_criminal"}


@dataclass(frozen=True)
class ExportFile:
    record_type: str
    path: str
    exported_at: datetime
    first_seen_at: datetime
    rows: tuple[dict, ...]
    # rows released later from landing quarantine belong to an earlier file version
    version_of: ExportFile | None = None

    @property
    def sha256(self) -> str:
        if self.version_of is not None:
            return self.version_of.sha256
        return hashlib.sha256(
            json.dumps([self.path, self.rows], default=str, ensure_ascii=False).encode()
        ).hexdigest()


def create_landing(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(DDL)
    ensure_schema(conn)  # the ledger and quarantine (the landing tables exist already)


def record_version(conn: duckdb.DuckDBPyConnection, export: ExportFile, run_id: str) -> None:
    """The ledger row of the file version, as the landing writes it: a new version of a path
    supersedes the path's previous one; released rows add to their version's counts."""
    n = len(export.rows)
    row = LedgerRow(
        path=export.path,
        sha256=export.sha256,
        size_bytes=1,
        mtime=T1,
        record_type=export.record_type,
        first_seen_at=export.first_seen_at,
        run_id=run_id,
        exported_at=export.exported_at,
        rows_read=n,
        rows_landed=n,
        current_since=export.first_seen_at,
    )
    found = conn.execute(
        "SELECT count(*) FROM ops.file_ledger WHERE file_version_id = ?", [row.file_version_id]
    ).fetchall()[0][0]
    if found:
        conn.execute(
            "UPDATE ops.file_ledger SET rows_read = rows_read + ?, "
            "rows_landed = rows_landed + ? WHERE file_version_id = ?",
            [n, n, row.file_version_id],
        )
        return
    insert_ledger_rows(conn, [row])
    make_current(conn, [row])


def land(conn: duckdb.DuckDBPyConnection, export: ExportFile, run_id: str = "test-run") -> None:
    """Insert a file version's rows as the landing would (typed, empty counts 0, lineage)."""
    fields = FIELDS[export.record_type]
    columns = fields + [
        "_file_sha256",
        "_source_path",
        "_sheet",
        "_line",
        "_exported_at",
        "_first_seen_at",
        "_mapping_version",
        "_station_source",
        "_extra",
        "_run_id",
    ]
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO landing.{export.record_type} ({', '.join(columns)}) VALUES ({placeholders})"
    for line, row in enumerate(export.rows, start=5):  # title lines and header above
        values = []
        for field in fields:
            value = row.get(field)
            if value is None and field in COUNTS:
                value = 0
            if value is None and field in BOOLEANS:
                value = False
            values.append(value)
        values += [
            export.sha256,
            export.path,
            None,
            line,
            export.exported_at,
            export.first_seen_at,
            "test+0000000",
            "column",
            "{}",
            run_id,
        ]
        conn.execute(sql, values)
    record_version(conn, export, run_id)


def add_reference_station(conn: duckdb.DuckDBPyConnection, **row) -> None:
    columns = [
        "station_id",
        "station_name",
        "bureau_name",
        "city",
        "province",
        "unit_type",
        "model_station_level",
        "model_station_year",
        "alias",
        "_source_path",
    ]
    conn.execute(
        f"INSERT INTO landing.reference_stations VALUES ({', '.join('?' for _ in columns)})",
        [row.get(c) for c in columns],
    )


T1 = datetime(2026, 1, 1, 1, 0, 0)
T2 = datetime(2026, 1, 2, 1, 0, 0)
T3 = datetime(2026, 1, 3, 1, 0, 0)

# ---------------------------------------------------------------- inspections
INSPECTIONS_0710 = ExportFile(
    "inspections",
    "inspections/yuncheng/检查登记表_20220710.csv",
    datetime(2022, 7, 10),
    T1,
    (
        dict(
            inspection_id="I1",
            inspected_on=date(2022, 7, 5),
            station="三路里所",
            venue_name="好又多超市",
            venue_type="小超市",
            venue_address="盐湖区解放路1号",
            hazards_found=2,
            hazards_rectified=1,
            notices_issued=1,
            officer="赵警官",
            contact_phone="13912345678",
        ),
        dict(
            inspection_id="I2",
            inspected_on=date(2022, 7, 6),
            station="盐湖分局 席张派出所",
            venue_name="金龙网吧",
            venue_type="网吧",
            hazards_found=1,
            hazards_rectified=1,
            closure_ordered=True,
        ),
        dict(
            inspection_id="I3",
            inspected_on=date(2022, 7, 6),
            station="三路里派出所",
            venue_name="好又多超市",
            venue_type="便利店",
        ),
        dict(
            inspection_id="I4",
            inspected_on=date(2022, 7, 7),
            station="西城派出所",
            venue_name="西城饭店",
            venue_type="小餐饮",
            hazards_found=4,
        ),
        dict(
            inspection_id="I5",
            inspected_on=date(2022, 7, 8),
            station="三路里所",
            venue_name="幸福公寓",
            venue_type="出租屋",
            hazards_found=1,
            rental_households=5,
            rental_rooms=20,
        ),
        dict(
            inspection_id="I6",
            inspected_on=date(2022, 7, 8),
            station="三路里所",
            venue_name="小卖部甲",
            venue_type="小卖部",
            hazards_found=9,
        ),
        dict(
            inspection_id="I7",
            inspected_on=date(2022, 6, 1),
            station="三路里所",
            venue_name="运城宾馆",
            venue_type="宾馆",
            hazards_found=3,
            hazards_rectified=3,
        ),
    ),
)
INSPECTIONS_0720 = ExportFile(
    "inspections",
    "inspections/yuncheng/检查登记表_20220720.csv",
    datetime(2022, 7, 20),
    T2,
    (
        # cumulative: I1 again, corrected (rectified 1 → 2); I2..I7 absent but not deleted
        dict(
            inspection_id="I1",
            inspected_on=date(2022, 7, 5),
            station="三路里所",
            venue_name="好又多超市",
            venue_type="小超市",
            hazards_found=2,
            hazards_rectified=2,
            notices_issued=1,
        ),
        # full-width spelling of the station id
        dict(
            inspection_id="I8",
            inspected_on=date(2022, 7, 15),
            station="ＹＣ＿ＹＨ＿ＢＥＩＣＨＥＮＧ",
            venue_name="足浴城",
            venue_type="足疗店",
            hazards_found=2,
            hazards_rectified=2,
            notices_issued=1,
            closure_ordered=True,
        ),
    ),
)
INSPECTIONS_NINGBO = ExportFile(
    "inspections",
    "inspections/ningbo/古林所.csv",
    datetime(2022, 7, 11),
    T1,
    (
        dict(
            inspection_id="I9",
            inspected_on=date(2018, 3, 10),
            station="古林所",
            venue_name="古林小吃",
            venue_type="小餐饮",
            hazards_found=1,
        ),
        dict(
            inspection_id="I10",
            inspected_on=date(2022, 7, 10),
            station="海曙分局古林派出所",
            venue_name="古林浴场",
            venue_type="洗浴中心",
            closure_ordered=True,
        ),
    ),
)
# added later: the incremental run
INSPECTIONS_0801 = ExportFile(
    "inspections",
    "inspections/yuncheng/检查登记表_20220801.csv",
    datetime(2022, 8, 1),
    T3,
    (
        dict(
            inspection_id="I2",
            inspected_on=date(2022, 7, 6),
            station="席张所",
            venue_name="金龙网吧",
            venue_type="网吧",
            hazards_found=3,
            hazards_rectified=1,
            closure_ordered=True,
        ),
        dict(
            inspection_id="I11",
            inspected_on=date(2022, 7, 25),
            station="陶村警务站",
            venue_name="仁心诊所",
            venue_type="诊所",
            hazards_found=1,
            hazards_rectified=1,
        ),
        dict(
            inspection_id="I4",
            inspected_on=date(2022, 7, 7),
            station="西城派出所",
            venue_name="西城饭店",
            venue_type="小餐饮",
            hazards_found=4,
        ),
    ),
)
# a row of the 0710 file released later from landing quarantine (e.g. a header synonym was
# added): it lands in a later run but keeps its file's first_seen_at (T1)
INSPECTIONS_0710_RELEASED = ExportFile(
    "inspections",
    "inspections/yuncheng/检查登记表_20220710.csv",
    datetime(2022, 7, 10),
    T1,
    (
        dict(
            inspection_id="I12",
            inspected_on=date(2022, 7, 9),
            station="席张所",
            venue_name="平安旅馆",
            venue_type="小旅馆",
            hazards_found=1,
        ),
    ),
    version_of=INSPECTIONS_0710,
)

# a correction moving the only record of the 2018 Ningbo campaign out of it
INSPECTIONS_NINGBO_CORRECTION = ExportFile(
    "inspections",
    "inspections/ningbo/古林所_更正.csv",
    datetime(2022, 8, 2),
    T3,
    (
        dict(
            inspection_id="I9",
            inspected_on=date(2019, 3, 10),
            station="古林所",
            venue_name="古林小吃",
            venue_type="小餐饮",
            hazards_found=1,
        ),
    ),
)

# ---------------------------------------------------------------- disputes
DISPUTES_0710 = ExportFile(
    "disputes",
    "disputes/yuncheng/纠纷台账_0710.csv",
    datetime(2022, 7, 10),
    T1,
    (
        dict(
            dispute_id="D1",
            reported_on=date(2022, 7, 1),
            station="三路里所",
            source="摸排",
            dispute_type="邻里纠纷",
            risk_level="低",
            status="调解中",
            mediation_channel="网格",
            party_name="张三",
            party_id_number="140802199001011234",
            party_phone="13812345678",
        ),
        dict(
            dispute_id="D2",
            reported_on=date(2022, 7, 2),
            station="三路里所",
            source="接处警",
            dispute_type="家庭纠纷",
            risk_level="中",
            status="已化解",
            resolved_on=date(2022, 7, 3),
            mediation_channel="警务室调解",
            mediation_result="成功",
            follow_up_visits=1,
            party_name="李四",
            party_id_number="14080219850202567X",
            party_phone="13700001111",
        ),
        dict(
            dispute_id="D3",
            reported_on=date(2022, 7, 3),
            station="席张所",
            source="110警情",
            dispute_type="劳资纠纷",
            risk_level="高",
            status="未化解",
            mediation_result="失败",
            escalated_to_criminal=True,
            party_name="王二麻",
        ),
        dict(
            dispute_id="D4",
            reported_on=date(2022, 7, 3),
            station="三路里所",
            source="微信群",
            dispute_type="其他",
            risk_level="低",
            status="调解中",
        ),
    ),
)
DISPUTES_0720 = ExportFile(
    "disputes",
    "disputes/yuncheng/纠纷台账_0720.csv",
    datetime(2022, 7, 20),
    T2,
    (
        dict(
            dispute_id="D1",
            reported_on=date(2022, 7, 1),
            station="三路里所",
            source="摸排",
            dispute_type="邻里纠纷",
            risk_level="低",
            status="已化解",
            resolved_on=date(2022, 7, 12),
            mediation_channel="网格",
            mediation_result="调解成功",
            follow_up_visits=2,
            party_name="张三",
            party_id_number="140802199001011234",
            party_phone="13812345678",
        ),
    ),
)

# ---------------------------------------------------------------- traffic
TRAFFIC_NINGBO = ExportFile(
    "traffic",
    "traffic/ningbo/2020-06.csv",
    datetime(2020, 6, 30),
    T1,
    (
        dict(
            ticket_id="T1",
            occurred_at=datetime(2020, 6, 1, 8, 30),
            unit="古林所",
            road="古林路",
            violation="电动车未戴头盔",
            vehicle_type="电动自行车",
            plate="浙B12345",
            party_name="王五",
            party_id_number="330203199003033333",
            action="教育",
        ),
        dict(
            ticket_id="T2",
            occurred_at=datetime(2020, 6, 2, 9, 0),
            unit="高桥派出所",
            road="高桥路",
            violation="闯红灯",
            violation_code="NMV_RED_LIGHT",
            vehicle_type="电动自行车",
            plate="浙B67890",
            action="罚款",
            fine_yuan=50,
        ),
        dict(
            ticket_id="T3",
            occurred_at=datetime(2020, 6, 3, 9, 0),
            unit="古林派出所",
            road="古林路",
            violation="逆向行驶",
            violation_code="9999",
            action="警告",
        ),
        dict(
            ticket_id="T4",
            occurred_at=datetime(2020, 6, 3, 10, 0),
            unit="海曙交警中队",
            road="环城西路",
            violation="行人闯红灯",
            action="警告",
        ),
        dict(
            ticket_id="T6",
            occurred_at=datetime(2019, 1, 1, 12, 0),
            unit="古林所",
            road="古林路",
            violation="飙车",
            action="罚款",
            fine_yuan=200,
            plate="浙B00001",
        ),
    ),
)
TRAFFIC_YUNCHENG = ExportFile(
    "traffic",
    "traffic/yuncheng/查处_0705.csv",
    datetime(2022, 7, 5),
    T1,
    (
        dict(
            ticket_id="T5",
            occurred_at=datetime(2022, 7, 5, 10, 0),
            unit="三路里所",
            road="解放路",
            violation="行人闯红灯",
            action="警告",
        ),
    ),
)

INITIAL = (
    INSPECTIONS_0710,
    INSPECTIONS_0720,
    INSPECTIONS_NINGBO,
    DISPUTES_0710,
    DISPUTES_0720,
    TRAFFIC_NINGBO,
    TRAFFIC_YUNCHENG,
)
LATER = (INSPECTIONS_0801, INSPECTIONS_0710_RELEASED, INSPECTIONS_NINGBO_CORRECTION)

PII_VALUES = (
    "13912345678",
    "140802199001011234",
    "13812345678",
    "14080219850202567X",
    "13700001111",
    "330203199003033333",
    "浙B12345",
    "浙B67890",
    "浙B00001",
    "张三",
    "李四",
    "王二麻",
    "王五",
    "赵警官",
    "盐湖区解放路1号",
)


def build_landing(path, files=INITIAL) -> None:
    with duckdb.connect(str(path)) as conn:
        create_landing(conn)
        add_reference_station(
            conn,
            station_id="YC_YH_TAOCUN",
            station_name="陶村派出所",
            bureau_name="运城市公安局盐湖分局",
            city="运城市",
            province="山西省",
            unit_type="station",
            alias="陶村警务站",
            _source_path="reference/stations.csv",
        )
        for export in files:
            land(conn, export)
