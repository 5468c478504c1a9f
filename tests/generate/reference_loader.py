"""A small, independent reading of a generated corpus, following the landing and model
contracts of docs/architecture.md, to check that the files say what truth.json says.

Not the landing implementation: slow, simple, and only as tolerant as the generator needs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl

from pipelines.generate.reference import campaign_for, crosswalk, seed_stations
from pipelines.textnorm import normalise_text

SYNONYMS = {
    "inspections": {
        "inspection_id": "检查编号 记录编号 编号 record_id inspection_id",
        "inspected_on": "检查日期 检查时间 日期 inspection_date date",
        "station": "派出所 所属派出所 检查单位 单位 station",
        "venue_name": "场所名称 单位名称 venue_name",
        "venue_type": "场所类型 场所类别 venue_type",
        "hazards_found": "发现隐患 发现隐患数 隐患数 hazards_found",
        "hazards_rectified": "督促整改 已整改 已整改数 整改数 hazards_rectified",
        "notices_issued": "下发通知书 整改通知书 隐患通知书 notices_issued",
        "closure_ordered": "停业整改 是否停业整改 closure_ordered",
        "rental_households": "出租户数 户数",
        "rental_rooms": "出租间数 房间数 间数",
    },
    "disputes": {
        "dispute_id": "纠纷编号 编号 记录编号 dispute_id",
        "reported_on": "登记日期 发现日期 受理时间 登记时间 reported_at",
        "station": "派出所 所属派出所 受理单位 单位 station",
        "source": "来源 线索来源 source",
        "dispute_type": "纠纷类型 类别 类型 dispute_type",
        "status": "化解状态 状态 处置结果 status",
        "mediation_result": "调解结果 mediation_result",
        "escalated_to_criminal": "是否民转刑 民转刑 escalated",
        "follow_up_visits": "回访次数 follow_ups",
        "party_name": "当事人 当事人姓名 party_name",
        "party_id_number": "身份证号 身份证号码 证件号码 id_number",
        "party_phone": "联系电话 电话 phone",
    },
    "traffic": {
        "ticket_id": "决定书编号 违法编号 记录编号 编号 ticket_id",
        "occurred_at": "违法时间 查处时间 时间 occurred_at",
        "unit": "执勤单位 派出所 中队 大队 单位 unit",
        "violation": "违法行为 违法类型 violation",
        "violation_code": "违法代码 violation_code",
        "action": "处理方式 处罚种类 action",
        "fine_yuan": "罚款金额 罚款金额(元) 罚款 fine",
        "plate": "号牌号码 车牌号 plate",
        "party_name": "当事人 party_name",
        "party_id_number": "身份证号 证件号码 id_number",
    },
}
KEY = {"inspections": "inspection_id", "disputes": "dispute_id", "traffic": "ticket_id"}
DATE = {"inspections": "inspected_on", "disputes": "reported_on", "traffic": "occurred_at"}
STATION = {"inspections": "station", "disputes": "station", "traffic": "unit"}
COUNTS = (
    "hazards_found",
    "hazards_rectified",
    "notices_issued",
    "rental_households",
    "rental_rooms",
    "follow_up_visits",
    "fine_yuan",
)
BOOLS = ("closure_ordered", "escalated_to_criminal")
TRUE = {"是", "y", "√", "1", "已整改"}
FALSE = {"否", "n", "0", "未整改", ""}
NO_DATE = datetime(2100, 1, 1)  # "first seen": later than every dated export


class Bad(Exception):
    pass


def norm_header(text) -> str:
    t = normalise_text(str(text or ""))
    return re.sub(r"\([^()]*\)$", "", t)


def parse_date(v) -> datetime:
    if isinstance(v, datetime):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return datetime(1899, 12, 30) + timedelta(days=float(v))
    s = unicodedata.normalize("NFKC", str(v)).strip()
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y年%m月%d日 %H:%M",
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y年%m月%d日",
        "%Y%m%d",
    ):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    if re.fullmatch(r"\d{5}", s):
        return datetime(1899, 12, 30) + timedelta(days=int(s))
    raise Bad("bad_date")


def parse_count(v) -> int:
    if isinstance(v, int):
        n = v
    else:
        s = unicodedata.normalize("NFKC", str(v or "")).strip()
        s = re.sub(r"[处份户间次元]$", "", s)
        if s in ("",):
            return 0
        if s in ("是", "否"):
            return int(s == "是")
        if not re.fullmatch(r"-?\d+", s):
            raise Bad("bad_count")
        n = int(s)
    if n < 0:
        raise Bad("bad_count")
    return n


def parse_bool(v) -> bool:
    s = normalise_text(str(v if v is not None else ""))
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise Bad("bad_boolean")


def read_tables(path: Path, data: bytes) -> list[list[list]]:
    if path.suffix == ".xlsx":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise Bad("not xlsx")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
    if not data:
        raise Bad("empty")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Bad("undecodable")
    return [list(csv.reader(io.StringIO(text)))]


def load(out: Path) -> dict:
    stations = {}
    for s in seed_stations():
        for a in (s.station_id, s.name, *s.aliases):
            stations[normalise_text(a)] = s
    xw = {
        dim: {normalise_text(raw): code for code, raws in codes.items() for raw in raws}
        for dim, codes in crosswalk().items()
    }
    result = {
        "landing": {},
        "facts": {},
        "unknown_station": 0,
        "key_conflict": 0,
        "station_rows": {},
    }
    seen: set[str] = set()
    for rt in ("inspections", "disputes", "traffic"):
        syn = {norm_header(h): f for f, names in SYNONYMS[rt].items() for h in names.split()}
        stats = defaultdict(int)
        landed: dict[str, tuple] = {}
        for path in sorted(p for p in (out / rt).rglob("*") if p.is_file()):
            stats["files"] += 1
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                stats["files_duplicate"] += 1
                continue
            seen.add(digest)
            try:
                tables = read_tables(path, data)
            except Bad:
                stats["files_failed"] += 1
                continue
            m = re.search(r"(20\d{6})", path.name)
            name_date = datetime.strptime(m.group(1), "%Y%m%d") if m else None
            found_header = False
            rows_here = []
            for table in tables:
                title_station, title_date, header = None, None, None
                for i, row in enumerate(table):
                    cells = [c for c in row if c not in (None, "")]
                    mapped = [syn.get(norm_header(c)) for c in row]
                    if header is None:
                        if sum(1 for f in mapped if f) >= 3 and KEY[rt] in mapped:
                            header, raw_header = mapped, row
                            found_header = True
                            continue
                        if cells and str(cells[0]).startswith("填报单位"):
                            title_station = re.split("[:：]", str(cells[0]), maxsplit=1)[1]
                        if cells and str(cells[0]).startswith("填报日期"):
                            title_date = parse_date(re.split("[:：]", str(cells[0]))[1])
                        continue
                    if (
                        not cells
                        or str(cells[0]).strip() in ("合计", "总计", "小计")
                        or row == raw_header
                    ):
                        continue
                    exported = title_date or name_date or NO_DATE
                    stats["rows_read"] += 1
                    try:
                        rows_here.append(
                            _typed(rt, header, row, exported, title_station, path, out, i)
                        )
                    except Bad as exc:
                        stats["rows_quarantined_landing"] += 1
                        stats[f"q_{exc.args[0]}"] += 1
            if not found_header:
                stats["files_failed"] += 1
                stats["rows_read"] -= len(rows_here)
                continue
            for rec in rows_here:  # a record is (station, number); the latest export wins
                st = stations.get(normalise_text(rec["station"]))
                scope = st.station_id if st else "?" + normalise_text(rec["station"])
                key = (scope, rec["key"])
                if key not in landed or rec["order"] > landed[key]["order"]:
                    landed[key] = rec
        result["landing"][rt] = dict(stats)
        facts = 0
        agg = defaultdict(lambda: defaultdict(int))
        venues = defaultdict(set)
        closures = defaultdict(set)
        claims: dict[tuple, tuple] = {}  # evidence -> the first claim's export order
        held = set()
        for (scope, number), rec in sorted(landed.items(), key=lambda kv: kv[1]["order"]):
            evidence = _evidence(rt, rec["v"], xw) if not scope.startswith("?") else None
            if evidence is None:
                continue
            first = claims.setdefault((number, rec["day"], evidence), (scope, rec["order"]))
            if first[0] != scope:
                held.add((scope, number))
        result["key_conflict"] += len(held)
        for (scope, number), rec in landed.items():
            st = stations.get(normalise_text(rec["station"]))
            if st is None:
                result["unknown_station"] += 1
                continue
            if (scope, number) in held:
                continue
            facts += 1
            cid = campaign_for(rt, st.city, rec["day"])
            if cid is None:
                continue
            v = rec["v"]
            if rt == "inspections":
                code = xw["venue_type"][normalise_text(v["venue_type"])]
                key = (cid, st.name, code)
                venue = v.get("venue_name") or rec["key"]
                venues[key].add(venue)
                if v["closure_ordered"]:
                    closures[key].add(venue)
                a = agg[key]
                a["inspection_visits"] += 1
                for f in (
                    "hazards_found",
                    "hazards_rectified",
                    "notices_issued",
                    "rental_households",
                    "rental_rooms",
                ):
                    a[f] += v.get(f, 0)
            elif rt == "disputes":
                a = agg[(cid, st.name, xw["dispute_source"][normalise_text(v["source"])])]
                a["disputes_found"] += 1
                a["disputes_resolved"] += (
                    xw["dispute_status"][normalise_text(v["status"])] == "RESOLVED"
                )
                res = normalise_text(v.get("mediation_result") or "")
                a["mediations"] += bool(res)
                a["mediation_successes"] += bool(res) and xw["mediation_result"][res] == "SUCCESS"
                a["escalations"] += v["escalated_to_criminal"]
            else:
                code = v.get("violation_code") or v["violation"]
                a = agg[(cid, st.name, xw["violation"][normalise_text(code)])]
                a["violations"] += 1
                a["fines_yuan"] += v.get("fine_yuan", 0)
        for key in venues:
            agg[key]["venues_inspected"] = len(venues[key])
            agg[key]["closures_ordered"] = len(closures[key])
        result["facts"][rt] = facts
        result["station_rows"][rt] = {k: dict(a) for k, a in agg.items()}
    return result


def _evidence(rt: str, v: dict, xw: dict) -> tuple | None:
    """What says two stations' records with one number are one record (docs/architecture.md,
    record identity); None when the record carries too little to tell."""
    if rt == "inspections":
        name = normalise_text(v.get("venue_name") or "")
        return (
            (name, xw["venue_type"][normalise_text(v["venue_type"])], v.get("hazards_found", 0))
            if name
            else None
        )
    if rt == "disputes":
        party = next(
            (
                normalise_text(str(v[f])).upper()
                for f in ("party_id_number", "party_phone", "party_name")
                if v.get(f)
            ),
            None,
        )
        kind = xw["dispute_type"].get(normalise_text(v.get("dispute_type") or ""))
        return (party, kind) if party else None
    plate = normalise_text(str(v.get("plate") or "")).upper()
    party = next(
        (normalise_text(str(v[f])).upper() for f in ("party_id_number", "party_name") if v.get(f)),
        "",
    )
    code = v.get("violation_code") or v["violation"]
    return (
        (parse_date(v["occurred_at"]), xw["violation"][normalise_text(code)], plate, party)
        if plate or party
        else None
    )


def _typed(rt, header, row, exported, title_station, path, out, line) -> dict:
    if len(row) < len(header):
        raise Bad("malformed_row")
    v = {}
    for f, cell in zip(header, row, strict=False):
        if f:
            v[f] = cell.strip() if isinstance(cell, str) else cell
    key = v.get(KEY[rt])
    if not key:
        raise Bad("missing_key")
    day = parse_date(v[DATE[rt]])
    if day.year < 2000 or day > exported + timedelta(days=1):
        raise Bad("implausible_date")
    for f in COUNTS:
        if f in v:
            v[f] = parse_count(v[f])
    for f in BOOLS:
        if f in v:
            v[f] = parse_bool(v[f])
    if rt == "inspections" and v.get("hazards_rectified", 0) > v.get("hazards_found", 0):
        raise Bad("rectified_exceeds_found")
    station = v.get(STATION[rt]) or title_station or path.parent.name
    rel = str(path.relative_to(out))
    return {
        "key": str(key),
        "day": day.date() if isinstance(day, datetime) else day,
        "station": str(station),
        "v": v,
        "order": (exported, rel, line),
    }


def truth_station_rows(truth: dict, rt: str) -> dict:
    mart, code = {
        "inspections": ("mart_campaign_inspections", "venue_type_code"),
        "disputes": ("mart_campaign_disputes", "source_code"),
        "traffic": ("mart_campaign_traffic", "violation_code"),
    }[rt]
    out = {}
    for r in truth[mart]:
        if r["level"] == "station" and r[code] not in ("ALL", "ALL_NINE_SMALL"):
            out[(r["campaign_id"], r["unit_name"], r[code])] = {
                k: v for k, v in r.items() if k not in ("campaign_id", "level", "unit_name", code)
            }
    return out


_ = date  # re-exported type for callers
