"""How a station's platform writes values: header variants, date forms, counts, booleans.

Every header name comes from shared/spec/raw_exports.md (with spacing, full-width and unit
decorations the landing must see through); every code spelling comes from the crosswalk seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from pipelines.generate.reference import Station, crosswalk

# Canonical field order of a rendered record (index = position in the value tuple).
INSP_FIELDS = (
    "_seq",
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
    "_extra",
)
DISP_FIELDS = (
    "_seq",
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
)
TRAF_FIELDS = (
    "_seq",
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
)
FIELDS = {"inspections": INSP_FIELDS, "disputes": DISP_FIELDS, "traffic": TRAF_FIELDS}
STATION_FIELD = {"inspections": "station", "disputes": "station", "traffic": "unit"}
KEY_FIELD = {"inspections": "inspection_id", "disputes": "dispute_id", "traffic": "ticket_id"}
DATE_FIELD = {"inspections": "inspected_on", "disputes": "reported_on", "traffic": "occurred_at"}

# header variants: 0 = Chinese platform with 序号 and bracketed units, 1 = other synonyms with
# inner / full-width spaces and full-width brackets, 2 = English headers of a newer platform.
HEADERS: dict[str, tuple[tuple[tuple[str, str], ...], ...]] = {
    "inspections": (
        (
            ("_seq", "序号"),
            ("inspection_id", "检查编号"),
            ("inspected_on", "检查日期"),
            ("station", "派出所"),
            ("venue_name", "场所名称"),
            ("venue_type", "场所类型"),
            ("venue_address", "场所地址"),
            ("hazards_found", "发现隐患(处)"),
            ("hazards_rectified", "督促整改(处)"),
            ("notices_issued", "下发通知书(份)"),
            ("closure_ordered", "停业整改"),
            ("rental_households", "出租户数"),
            ("rental_rooms", "出租间数"),
            ("officer", "检查民警"),
            ("contact_phone", "联系电话"),
            ("remarks", "备注"),
        ),
        (
            ("inspection_id", "记录编号"),
            ("inspected_on", "检查 时间"),
            ("station", "所属派出所"),
            ("venue_name", "单位名称"),
            ("venue_type", "场所类别"),
            ("venue_address", "地址"),
            ("_extra", "场所负责人"),
            ("hazards_found", " 隐患数 "),
            ("hazards_rectified", "已整改数"),
            ("notices_issued", "整改通知书（份）"),
            ("closure_ordered", "是否停业整改"),
            ("rental_households", "户数"),
            ("rental_rooms", "房间数"),
            ("officer", "民警"),
            ("contact_phone", "电话"),
            ("remarks", "备\u3000注"),
        ),
        (
            ("inspection_id", "record_id"),
            ("inspected_on", "inspection_date"),
            ("station", "station"),
            ("venue_name", "venue_name"),
            ("venue_type", "venue_type"),
            ("venue_address", "address"),
            ("hazards_found", "hazards_found"),
            ("hazards_rectified", "hazards_rectified"),
            ("notices_issued", "notices_issued"),
            ("closure_ordered", "closure_ordered"),
            ("rental_households", "出租户数"),
            ("rental_rooms", "出租间数"),
            ("officer", "ｏｆｆｉｃｅｒ"),
            ("contact_phone", "phone"),
            ("remarks", " remarks "),
        ),
    ),
    "disputes": (
        (
            ("_seq", "序号"),
            ("dispute_id", "纠纷编号"),
            ("reported_on", "登记日期"),
            ("station", "派出所"),
            ("source", "来源"),
            ("dispute_type", "纠纷类型"),
            ("risk_level", "风险等级"),
            ("status", "化解状态"),
            ("resolved_on", "化解日期"),
            ("mediation_channel", "调解方式"),
            ("mediation_result", "调解结果"),
            ("escalated_to_criminal", "是否民转刑"),
            ("follow_up_visits", "回访次数"),
            ("party_name", "当事人"),
            ("party_id_number", "身份证号"),
            ("party_phone", "联系电话"),
        ),
        (
            ("dispute_id", "记录编号"),
            ("reported_on", "受理 时间"),
            ("station", "受理单位"),
            ("source", "线索来源"),
            ("dispute_type", "类别"),
            ("risk_level", "等级"),
            ("status", "处置结果"),
            ("resolved_on", "办结日期"),
            ("mediation_channel", "调解主体"),
            ("mediation_result", "调解结果"),
            ("escalated_to_criminal", "民转刑"),
            ("follow_up_visits", "回访次数（次）"),
            ("party_name", "当事人姓名"),
            ("party_id_number", "身份证号码"),
            ("party_phone", "电\u3000话"),
        ),
        (
            ("dispute_id", "dispute_id"),
            ("reported_on", "reported_at"),
            ("station", "station"),
            ("source", "source"),
            ("dispute_type", "dispute_type"),
            ("risk_level", "risk_level"),
            ("status", "status"),
            ("resolved_on", "resolved_at"),
            ("mediation_channel", "mediation_channel"),
            ("mediation_result", "mediation_result"),
            ("escalated_to_criminal", "escalated"),
            ("follow_up_visits", "follow_ups"),
            ("party_name", "party_name"),
            ("party_id_number", "id_number"),
            ("party_phone", "phone"),
        ),
    ),
    "traffic": (
        (
            ("_seq", "序号"),
            ("ticket_id", "决定书编号"),
            ("occurred_at", "违法时间"),
            ("unit", "执勤单位"),
            ("road", "违法地点"),
            ("violation", "违法行为"),
            ("violation_code", "违法代码"),
            ("vehicle_type", "车辆类型"),
            ("plate", "号牌号码"),
            ("party_name", "当事人"),
            ("party_id_number", "身份证号"),
            ("action", "处理方式"),
            ("fine_yuan", "罚款金额(元)"),
        ),
        (
            ("ticket_id", "违法编号"),
            ("occurred_at", "查处 时间"),
            ("unit", "派出所"),
            ("road", "路段"),
            ("violation", "违法类型"),
            ("vehicle_type", "号牌种类"),
            ("plate", "车牌号"),
            ("party_id_number", "证件号码"),
            ("action", "处罚种类"),
            ("fine_yuan", "罚款（元）"),
        ),
        (
            ("ticket_id", "ticket_id"),
            ("occurred_at", "occurred_at"),
            ("unit", "unit"),
            ("road", "road"),
            ("violation", "violation"),
            ("violation_code", "violation_code"),
            ("vehicle_type", "vehicle_type"),
            ("plate", "plate"),
            ("party_name", "party_name"),
            ("party_id_number", "id_number"),
            ("action", "action"),
            ("fine_yuan", "fine"),
        ),
    ),
}

DATE_FORMS = ("iso", "slash", "cn", "compact", "serial", "xdate")
DATETIME_FORMS = {
    "iso": "iso_s",
    "slash": "slash_m",
    "cn": "cn",
    "compact": "iso_m",
    "serial": "slash_s",
    "xdate": "xdate",
}
# (true, false) spellings; 已整改/未整改 only for closure_ordered
BOOL_STYLES = (("是", "否"), ("Y", "N"), ("√", ""), ("1", "0"), ("已整改", "未整改"))
UNITS = {
    "hazards_found": "处",
    "hazards_rectified": "处",
    "notices_issued": "份",
    "rental_households": "户",
    "rental_rooms": "间",
    "follow_up_visits": "次",
    "fine_yuan": "元",
}
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def fmt_date(d: date | None, form: str, xlsx: bool):
    if d is None:
        return ""
    if form == "iso":
        return f"{d:%Y-%m-%d}"
    if form == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if form == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if form == "compact":
        return f"{d:%Y%m%d}"
    if form == "serial":
        serial = (d - date(1899, 12, 30)).days
        return serial if xlsx else str(serial)
    return d if xlsx else f"{d:%Y-%m-%d}"


def fmt_datetime(t: datetime, form: str, xlsx: bool):
    form = DATETIME_FORMS[form]
    if form == "iso_s":
        return t.isoformat(" ", "seconds")
    if form == "iso_m":
        return t.isoformat(" ", "minutes")
    if form == "slash_m":
        return f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}"
    if form == "slash_s":
        return f"{t.year}/{t.month}/{t.day} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if form == "cn":
        return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"
    return t if xlsx else t.isoformat(" ", "seconds")


class Style:
    """How one file renders values (chosen per file, deterministic)."""

    def __init__(
        self,
        rng: random.Random,
        *,
        date_form: str,
        hand: bool,
        bool_style: int,
        xlsx: bool,
        notice_bool: bool = False,
    ) -> None:
        self.rng = rng
        self.date_form = date_form
        self.hand = hand
        self.bool_style = bool_style
        self.xlsx = xlsx
        self.notice_bool = notice_bool
        self._unit_shown: set[str] = set()

    def count(self, n: int, field: str):
        if not self.hand:
            return n if self.xlsx else str(n)
        r = self.rng.random()
        if n == 0:
            return "" if r < 0.6 else "0"
        if field not in self._unit_shown:  # the first value of a field in a file has its unit
            self._unit_shown.add(field)
            r = 0.3
        if r < 0.25:
            return fullwidth(str(n))
        if r < 0.5:
            return f"{n}{UNITS.get(field, '')}"
        return n if self.xlsx else str(n)

    def boolean(self, value: bool, closure: bool = False) -> str:
        style = self.bool_style if (closure or self.bool_style < 4) else 0
        return BOOL_STYLES[style][0 if value else 1]

    def date(self, d: date | None):
        return fmt_date(d, self.date_form, self.xlsx)

    def datetime(self, t: datetime):
        return fmt_datetime(t, self.date_form, self.xlsx)

    def datetime_formatter(self):
        """A one-argument formatter for this file's datetime form (fast path)."""
        form = DATETIME_FORMS[self.date_form]
        if form == "iso_s" or (form == "xdate" and not self.xlsx):
            return _iso_seconds
        if form == "iso_m":
            return _iso_minutes
        return self.datetime


def _iso_seconds(t: datetime) -> str:
    return t.isoformat(" ", "seconds")


def _iso_minutes(t: datetime) -> str:
    return t.isoformat(" ", "minutes")


def station_spellings(station: Station) -> list[str]:
    """Raw spellings of a station: name, aliases, and spacing variants of them."""
    out = [station.name, *station.aliases]
    short = station.short
    out.append(short[:2] + " " + short[2:])
    out.append(station.name[:2] + "\u3000" + station.name[2:])
    out.append(f" {station.long} ")
    return out


def spellings(dimension: str, code: str) -> tuple[str, ...]:
    return crosswalk()[dimension][code]
