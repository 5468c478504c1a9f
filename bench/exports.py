"""What a hand-written loader needs to know about station exports, shared by contenders (a), (b).

Deliberately independent of `pipelines/`: the baselines are what a user would write without the
project. The synonyms are those of shared/spec/raw_exports.md; the line rules mirror the
landing contract (header = first line mapping >= 3 distinct fields with the natural key; totals,
blank, title/footer and repeated header lines are not data rows).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

RECORD_TYPES = ("inspections", "disputes", "traffic")

SYNONYMS: dict[str, dict[str, list[str]]] = {
    "inspections": {
        "inspection_id": ["检查编号", "记录编号", "编号", "record_id", "inspection_id"],
        "inspected_on": ["检查日期", "检查时间", "日期", "inspection_date", "date"],
        "station": ["派出所", "所属派出所", "检查单位", "单位", "station"],
        "venue_name": ["场所名称", "单位名称", "venue_name"],
        "venue_type": ["场所类型", "场所类别", "venue_type"],
        "venue_address": ["场所地址", "地址", "address"],
        "hazards_found": ["发现隐患", "发现隐患数", "隐患数", "hazards_found"],
        "hazards_rectified": ["督促整改", "已整改", "已整改数", "整改数", "hazards_rectified"],
        "notices_issued": ["下发通知书", "整改通知书", "隐患通知书", "notices_issued"],
        "closure_ordered": ["停业整改", "是否停业整改", "closure_ordered"],
        "rental_households": ["出租户数", "户数", "rental_households"],
        "rental_rooms": ["出租间数", "房间数", "间数", "rental_rooms"],
        "officer": ["检查民警", "民警", "officer"],
        "contact_phone": ["联系电话", "电话", "phone", "contact_phone"],
        "remarks": ["备注", "remarks"],
    },
    "disputes": {
        "dispute_id": ["纠纷编号", "编号", "记录编号", "dispute_id"],
        "reported_on": [
            "登记日期",
            "发现日期",
            "受理时间",
            "登记时间",
            "reported_at",
            "reported_on",
        ],
        "station": ["派出所", "所属派出所", "受理单位", "单位", "station"],
        "source": ["来源", "线索来源", "source"],
        "dispute_type": ["纠纷类型", "类别", "类型", "dispute_type"],
        "risk_level": ["风险等级", "等级", "risk_level"],
        "status": ["化解状态", "状态", "处置结果", "status"],
        "resolved_on": ["化解日期", "办结日期", "resolved_at", "resolved_on"],
        "mediation_channel": ["调解方式", "调解主体", "mediation_channel"],
        "mediation_result": ["调解结果", "mediation_result"],
        "escalated_to_criminal": ["是否民转刑", "民转刑", "escalated", "escalated_to_criminal"],
        "follow_up_visits": ["回访次数", "follow_ups", "follow_up_visits"],
        "party_name": ["当事人", "当事人姓名", "party_name"],
        "party_id_number": ["身份证号", "身份证号码", "证件号码", "id_number", "party_id_number"],
        "party_phone": ["联系电话", "电话", "phone", "party_phone"],
    },
    "traffic": {
        "ticket_id": ["决定书编号", "违法编号", "记录编号", "编号", "ticket_id"],
        "occurred_at": ["违法时间", "查处时间", "时间", "occurred_at"],
        "unit": ["执勤单位", "派出所", "中队", "大队", "单位", "unit"],
        "road": ["违法地点", "路段", "地点", "road"],
        "violation": ["违法行为", "违法类型", "violation"],
        "violation_code": ["违法代码", "violation_code"],
        "vehicle_type": ["车辆类型", "号牌种类", "vehicle_type"],
        "plate": ["号牌号码", "车牌号", "plate"],
        "party_name": ["当事人", "party_name"],
        "party_id_number": ["身份证号", "证件号码", "id_number", "party_id_number"],
        "action": ["处理方式", "处罚种类", "action"],
        "fine_yuan": ["罚款金额", "罚款金额(元)", "罚款", "fine", "fine_yuan"],
    },
}

KEYS = {"inspections": "inspection_id", "disputes": "dispute_id", "traffic": "ticket_id"}
STATION_FIELD = {"inspections": "station", "disputes": "station", "traffic": "unit"}
DATE_FIELDS = {
    "inspections": ["inspected_on"],
    "disputes": ["reported_on", "resolved_on"],
    "traffic": [],
}
TIMESTAMP_FIELDS = {"inspections": [], "disputes": [], "traffic": ["occurred_at"]}
COUNT_FIELDS = {
    "inspections": [
        "hazards_found",
        "hazards_rectified",
        "notices_issued",
        "rental_households",
        "rental_rooms",
    ],
    "disputes": ["follow_up_visits"],
    "traffic": ["fine_yuan"],
}
BOOL_FIELDS = {
    "inspections": ["closure_ordered"],
    "disputes": ["escalated_to_criminal"],
    "traffic": [],
}
TOTAL_MARKERS = ("合计", "总计", "小计")
TITLE_KEYS = {"station": "填报单位", "exported_at": "填报日期"}
OTHER_TITLE_KEYS = ("制表人", "填报人", "审核人", "制表日期", "统计日期", "负责人")
HEADER_MIN_FIELDS = 3
LINE_MARKERS = (*TOTAL_MARKERS, *TITLE_KEYS.values(), *OTHER_TITLE_KEYS)
HEADER_SCAN_LINES = 40
HEAD_CHARS = 65536

_UNIT = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]$")
_SPACES = re.compile(r"\s+")
_ODD = re.compile("[^\x00-\x7f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def normalise(text: object) -> str:
    """NFKC, every space removed (U+3000 too), a trailing bracketed unit dropped, lower case."""
    if text is None:
        return ""
    s = _SPACES.sub("", unicodedata.normalize("NFKC", str(text)))
    return _UNIT.sub("", s).lower()


def _lookup() -> dict[str, dict[str, str]]:
    return {
        rt: {normalise(name): canonical for canonical, names in fields.items() for name in names}
        for rt, fields in SYNONYMS.items()
    }


LOOKUP = _lookup()


def fields(record_type: str) -> list[str]:
    return list(SYNONYMS[record_type])


def map_header(record_type: str, cells: list[object]) -> dict[int, str] | None:
    """{column index: canonical field} when the cells are this record type's header."""
    lookup = LOOKUP[record_type]
    mapping: dict[int, str] = {}
    for i, cell in enumerate(cells):
        canonical = lookup.get(normalise(cell))
        if canonical and canonical not in mapping.values():
            mapping[i] = canonical
    if len(mapping) >= HEADER_MIN_FIELDS and KEYS[record_type] in mapping.values():
        return mapping
    return None


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def line_kind(cells: list[object], key_index: int, key_header: str) -> str:
    """'data', or why the line is skipped: blank, total, title, header (a repeated header).

    The same rule as the SQL of contender (a): the first non-empty cell decides totals and
    title lines; a repeated header has the key column's header text in the key column.
    """
    first = next((t for t in (_cell(c) for c in cells) if t), None)
    if first is None:
        return "blank"
    squeezed = first.replace(" ", "").replace("\u3000", "")
    if squeezed.startswith(LINE_MARKERS):
        return "total" if squeezed.startswith(TOTAL_MARKERS) else "title"
    key = _cell(cells[key_index]) if key_index < len(cells) else ""
    if key and key == key_header:
        return "header"
    return "data"


def title_value(cells: list[object], key: str) -> str | None:
    """'填报单位: X' (same cell, after a colon) or '填报单位' | 'X' (next cell)."""
    texts = [_cell(c) for c in cells]
    for i, text in enumerate(texts):
        if normalise(text).startswith(key):
            rest = re.split(r"[:：]", text, maxsplit=1)
            if len(rest) == 2 and rest[1].strip():
                return rest[1].strip()
            following = [t for t in texts[i + 1 :] if t]
            return following[0] if following else None
    return None


@dataclass
class Table:
    """One CSV file or one xlsx sheet with a recognised header."""

    path: Path
    rel: str
    record_type: str
    encoding: str | None  # utf-8, utf-8-sig, gb18030 (CSV); None for xlsx
    sheet: str | None
    header_index: int  # 0-based physical line (CSV) / row (xlsx) of the header
    header: list[str]
    mapping: dict[int, str]
    station_title: str | None = None
    exported_title: str | None = None

    @property
    def key_index(self) -> int:
        return next(i for i, f in self.mapping.items() if f == KEYS[self.record_type])

    @property
    def key_header(self) -> str:
        return self.header[self.key_index]


@dataclass
class Prescan:
    tables: list[Table] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    xlsx: list[tuple[Path, str, str]] = field(default_factory=list)  # path, rel, record type


def export_files(raw: Path, record_type: str) -> list[Path]:
    top = raw / record_type
    return sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []


def is_xlsx(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def detect(data: bytes) -> tuple[str, str] | None:
    """(encoding, text of the first 64 KiB) or None: UTF-8 (BOM or not) checked over the whole
    file, else GB18030 checked on the head only (the transcoder decodes the rest strictly)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return "utf-8-sig", data[3:].decode("utf-8")[:HEAD_CHARS]
        except UnicodeDecodeError:
            return None
    try:
        return "utf-8", data.decode("utf-8")[:HEAD_CHARS]
    except UnicodeDecodeError:
        pass
    try:
        head = codecs.getincrementaldecoder("gb18030")().decode(data[: HEAD_CHARS * 2])
    except UnicodeDecodeError:
        return None
    # GB18030 decodes almost any byte string: insist on CJK/ASCII text, not mojibake.
    sample = head[:4000]
    if len(_ODD.findall(sample)) > max(5, len(sample) // 50):
        return None
    return "gb18030", head


def find_header(record_type: str, rows: list[list[object]]) -> tuple[int, dict[int, str]] | None:
    for i, cells in enumerate(rows[:HEADER_SCAN_LINES]):
        mapping = map_header(record_type, cells)
        if mapping:
            return i, mapping
    return None


def prescan(raw: Path, record_types: tuple[str, ...] = RECORD_TYPES) -> Prescan:
    """Hash every file (byte-identical copies are skipped), detect the encoding of CSVs, find
    each header line and the title values above it. xlsx files are listed, not opened."""
    scan = Prescan()
    seen: set[str] = set()
    for rt in record_types:
        for path in export_files(raw, rt):
            rel = path.relative_to(raw).as_posix()
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                scan.duplicates.append(rel)
                continue
            seen.add(digest)
            if not data.strip():
                scan.failed.append((rel, "empty"))
                continue
            if is_xlsx(data):
                scan.xlsx.append((path, rel, rt))
                continue
            detected = detect(data)
            if detected is None:
                scan.failed.append((rel, "undecodable"))
                continue
            encoding, text = detected
            head = text.splitlines()[:HEADER_SCAN_LINES]
            rows = list(csv.reader(io.StringIO("\n".join(head))))
            found = find_header(rt, rows)
            if found is None:
                scan.failed.append((rel, "no header"))
                continue
            index, mapping = found
            scan.tables.append(make_table(path, rel, rt, encoding, None, rows, index, mapping))
    return scan


def make_table(path, rel, rt, encoding, sheet, rows, index, mapping) -> Table:
    above = rows[:index]
    station = exported = None
    for cells in above:
        station = station or title_value(cells, TITLE_KEYS["station"])
        exported = exported or title_value(cells, TITLE_KEYS["exported_at"])
    return Table(
        path,
        rel,
        rt,
        encoding,
        sheet,
        index,
        [_cell(c) for c in rows[index]],
        mapping,
        station,
        exported,
    )


def xlsx_tables(path: Path, rel: str, rt: str):
    """Yield (Table, iterator of the rows below the header) per recognised sheet, read with
    calamine, the same reader the landing uses (chart sheets skipped)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with CalamineWorkbook.from_path(path) as book:
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            rows = iter(book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False))
            head: list[list[object]] = []
            found = None
            for cells in rows:
                head.append(list(cells))
                found = map_header(rt, head[-1])
                if found or len(head) >= HEADER_SCAN_LINES:
                    break
            if not found:
                continue
            table = make_table(path, rel, rt, None, meta.name, head, len(head) - 1, found)
            yield table, rows


_FILE_DATE = re.compile(r"(20\d\d)[-_.]?([01]\d)[-_.]?([0-3]\d)")


def date_in_name(rel: str) -> str | None:
    m = _FILE_DATE.search(rel.rsplit("/", 1)[-1]) or _FILE_DATE.search(rel)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def station_from_path(rel: str) -> str:
    parts = rel.split("/")
    return parts[-2] if len(parts) > 2 else Path(parts[-1]).stem
