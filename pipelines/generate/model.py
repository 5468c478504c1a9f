"""Clean canonical records: what really happened, before any export mangles it.

Records are plain dicts (inspections, disputes) or tuples (traffic, for speed). Each carries
its *final* values (what the latest export shows and what truth.json counts) and, where an
earlier export showed something else, the earlier values plus `change`: the number of days
after the record's date from which exports show the final values. The writer clamps the
change to the last export that contains the record, so the last export always shows the
final values.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipelines.generate.reference import NINE_SMALL, SOURCES, VIOLATIONS, Station

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶阎"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕云飞鹏辉宇浩俊晨欣"
    "怡子涵梓轩雨婷"
)
# A character outside GBK (GB18030 only): used in names written to GB18030 and UTF-8 files.
GB18030_ONLY = "䶮"

STREETS = (
    "解放路",
    "中山路",
    "人民路",
    "河东街",
    "学苑路",
    "建设路",
    "工农路",
    "盐湖大道",
    "红旗街",
    "府东街",
    "机场路",
    "凤凰路",
    "和平路",
    "新华路",
    "文化街",
    "槐荫路",
    "康宁路",
    "滨河路",
    "南环路",
    "北环路",
)
BRANDS = (
    "福源",
    "鑫盛",
    "兴隆",
    "佳惠",
    "平安",
    "顺发",
    "永和",
    "金鼎",
    "华美",
    "惠民",
    "好又多",
    "万家",
    "天天",
    "乐购",
    "老王家",
    "红星",
    "东方",
    "明珠",
    "聚福",
    "同心",
    "春晓",
    "金穗",
    "阳光",
    "百佳",
    "万福",
    "长青",
    "悦来",
    "新世纪",
    "宏达",
    "吉祥",
    "宝丰",
    "祥和",
    "瑞丰",
    "如意",
    "常乐",
    "德兴",
    "丰收",
    "大众",
    "锦绣",
    "五洲",
)
SUFFIX = {
    "SMALL_SHOP": ("便利店", "小超市", "商店"),
    "SMALL_RESTAURANT": ("小吃店", "面馆", "饭店"),
    "SMALL_HOTEL": ("旅馆", "家庭旅馆"),
    "SMALL_KTV": ("歌厅", "KTV"),
    "SMALL_NETCAFE": ("网吧",),
    "SMALL_BEAUTY_BATH": ("美容美发", "美容院"),
    "SMALL_SCHOOL": ("幼儿园", "培训学校"),
    "SMALL_CLINIC": ("诊所", "卫生室"),
    "SMALL_WORKSHOP": ("加工厂", "作坊"),
    "RENTAL_HOUSING": ("出租屋", "公寓"),
    "HOTEL": ("宾馆", "大酒店"),
    "FOOT_MASSAGE": ("足浴", "按摩店"),
    "ENTERTAINMENT": ("娱乐会所", "歌舞厅"),
    "BATHHOUSE": ("洗浴中心", "浴池"),
    "CONVERTED_FACTORY_FLATS": ("公寓楼", "群租房"),
}
CHANNELS = ("网格调解", "镇人民调解", "警务室民警调解", "司法专职调解")
ROADS = (
    "解放路与中山路交叉口",
    "人民路口",
    "学苑路中段",
    "河东街十字路口",
    "盐湖大道西段",
    "机场路收费站",
    "新华路与和平路口",
    "南环路高架下",
    "滨河路",
    "府东街公交站",
)
VEHICLES = {
    "PED": ("行人",),
    "NMV": ("电动自行车", "自行车", "三轮车"),
    "EBIKE": ("电动自行车",),
    "MV": ("小型汽车", "大型汽车", "出租汽车"),
}
VIOLATION_WEIGHTS = (761, 400, 2469, 4750, 524, 3290, 220, 6, 120, 3)
SOURCE_WEIGHTS = (40, 35, 15, 10)
CITY_REGION = {
    "运城市": "140802",
    "宁波市": "330203",
    "武汉市": "420103",
    "孝感市": "420921",
    "荆州市": "421081",
}
CITY_PLATE = {"运城市": "晋M", "宁波市": "浙B", "武汉市": "鄂A", "孝感市": "鄂K", "荆州市": "鄂D"}
CITY_CODE = {
    "运城市": "1408",
    "宁波市": "3302",
    "武汉市": "4201",
    "孝感市": "4209",
    "荆州市": "4210",
}
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
EPOCH = date(1899, 12, 30)


def excel_serial(value: date | datetime) -> float | int:
    if isinstance(value, datetime):
        delta = value - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return (value - EPOCH).days


def id_number(rng: random.Random, region: str) -> str:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    body = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


@dataclass
class Pools:
    """Bounded pools of personal data, so PII stays enumerable at any corpus size."""

    names: list[str]
    officers: list[str]
    ids: dict[str, list[str]]
    phones: list[str]
    plates: dict[str, list[str]]

    @classmethod
    def build(cls, seed: int, size: int = 400) -> Pools:
        rng = random.Random(f"{seed}:pools")
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < size:
            n = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            if n not in seen:
                seen.add(n)
                names.append(n)
        officers = [
            f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)}" for _ in range(40)
        ]
        officers = sorted(set(officers) - seen)
        ids = {c: [id_number(rng, r) for _ in range(size)] for c, r in CITY_REGION.items()}
        phones = [f"1{rng.choice('35789')}{rng.randrange(10**9):09d}" for _ in range(size)]
        plates = {
            c: [p + "".join(rng.choice(PLATE_CHARS) for _ in range(5)) for _ in range(size)]
            for c, p in CITY_PLATE.items()
        }
        return cls(names, officers, ids, phones, plates)


def station_salt(station_id: str, modulo: int = 1_000_003) -> int:
    """A stable number per station (the same in every corpus), for what stations own alone."""
    return zlib.crc32(station_id.encode()) % modulo


def record_number(prefix: str, station: Station, day: date, n: int, shared: bool = False) -> str:
    """Station-local numbering (docs/architecture.md, record identity). shared: every
    station's platform numbers a day's records from 001, so one number is used by every
    station (JC20220625001 at 三路里 and at 古林, for different records); else each station
    starts the day at its own point (numbers shared only now and then)."""
    start = 1 if shared else zlib.crc32(f"{station.station_id}:{day}".encode()) % 1000
    return f"{prefix}{day:%Y%m%d}{(start + n) % 1000:03d}"


def venue_name(vt: str, index: int) -> str:
    """The index-th distinct venue name of a type (unique per type up to 800 x suffixes)."""
    street = STREETS[index % len(STREETS)]
    brand = BRANDS[(index // len(STREETS)) % len(BRANDS)]
    suffixes = SUFFIX[vt]
    suffix = suffixes[(index // (len(STREETS) * len(BRANDS))) % len(suffixes)]
    rep = index // (len(STREETS) * len(BRANDS) * len(suffixes))
    return f"{street}{brand}{suffix}" + (f"{rep + 1}号店" if rep else "")


# --------------------------------------------------------------------------- inspections

INSP_TYPE_WEIGHTS = (10, 10, 5, 3, 4, 5, 4, 4, 5, 14, 8, 6, 4, 3, 4)


def inspection(
    rid: str,
    day: date,
    vt: str,
    venue: str | None,
    rng: random.Random,
    pools: Pools,
    *,
    found: int = 0,
    rect: int = 0,
    notices: int = 0,
    closure: bool = False,
    households: int = 0,
    rooms: int = 0,
) -> dict:
    street = STREETS[rng.randrange(len(STREETS))]
    return {
        "id": rid,
        "day": day,
        "vt": vt,
        "venue": venue,
        "address": f"{street}{rng.randint(1, 300)}号",
        "found": found,
        "rect": rect,
        "notices": notices,
        "closure": closure,
        "households": households,
        "rooms": rooms,
        "officer": pools.officers[rng.randrange(len(pools.officers))],
        "phone": pools.phones[rng.randrange(len(pools.phones))] if rng.random() < 0.7 else "",
        "remarks": rng.choice(("", "", "", "已督促整改", "复查合格", "限期整改")),
        "rect_early": None,
        "change": 0,
    }


def random_inspections(
    station: Station, sidx: int, day: date, rng: random.Random, pools: Pools, venue_pool: int
) -> list[dict]:
    """A station-day of inspections. Venues are the station's own (two stations never share a
    venue name by accident: that would look like a re-exported record, a key conflict)."""
    own = station_salt(station.station_id) * venue_pool
    out = []
    for n in range(rng.randint(3, 7)):
        vt = (
            rng.choices(NINE_SMALL + _OUTSIDE, weights=INSP_TYPE_WEIGHTS)[0]
            if n
            else rng.choice(_CLOSABLE)
        )  # every station-day checks one entertainment-like venue
        venue = venue_name(vt, own + rng.randrange(venue_pool)) if rng.random() > 0.03 else None
        found = rng.choice((0, 0, 0, 1, 1, 2, 3))
        rect = rng.randint(0, found)
        notices = 1 if found and rng.random() < 0.4 else 0
        closure = vt in _CLOSABLE and rng.random() < (0.5 if n == 0 else 0.2)
        households = rooms = 0
        if vt in ("RENTAL_HOUSING", "CONVERTED_FACTORY_FLATS"):
            households = rng.randint(1, 6)
            rooms = households + rng.randint(0, 12)
        rec = inspection(
            record_number("JC", station, day, n, shared=True),
            day,
            vt,
            venue,
            rng,
            pools,
            found=found,
            rect=rect,
            notices=notices,
            closure=closure,
            households=households,
            rooms=rooms,
        )
        if rect > 0 and rng.random() < 0.5:
            rec["rect_early"], rec["change"] = rng.randint(0, rect - 1), rng.randint(1, 3)
        out.append(rec)
    return out


_CLOSABLE = ("ENTERTAINMENT", "BATHHOUSE", "SMALL_KTV", "FOOT_MASSAGE", "SMALL_NETCAFE")
_OUTSIDE = (
    "RENTAL_HOUSING",
    "HOTEL",
    "FOOT_MASSAGE",
    "ENTERTAINMENT",
    "BATHHOUSE",
    "CONVERTED_FACTORY_FLATS",
)

# --------------------------------------------------------------------------- disputes

DISPUTE_TYPES = ("NEIGHBOUR", "FAMILY", "ECONOMIC", "LABOUR", "LAND", "TRAFFIC", "OTHER")


def dispute(
    rid: str, day: date, source: str, status: str, rng: random.Random, pools: Pools, city: str
) -> dict:
    result = None
    if status == "RESOLVED":
        result = "SUCCESS" if rng.random() < 0.9 else None
    elif status == "UNRESOLVED":
        result = "FAILED"
    escalated = status != "RESOLVED" and rng.random() < 0.1
    follow_ups = rng.randint(0, 3) if status == "RESOLVED" else 0
    # earlier exports show the dispute still in mediation, from 0..3 days before it settled
    change = rng.choice((0, 1, 1, 2, 3)) if status != "IN_MEDIATION" else 0
    return {
        "id": rid,
        "day": day,
        "source": source,
        "dtype": rng.choice(DISPUTE_TYPES),
        "risk": rng.choices(("LOW", "MEDIUM", "HIGH"), weights=(6, 3, 1))[0],
        "status": status,
        "channel": rng.choice(CHANNELS) if status != "REFERRED" else "",
        "result": result,
        "escalated": escalated,
        "follow_ups": follow_ups,
        "party": pools.names[rng.randrange(len(pools.names))],
        "idn": pools.ids[city][rng.randrange(len(pools.ids[city]))] if rng.random() < 0.8 else "",
        "phone": pools.phones[rng.randrange(len(pools.phones))],
        "change": change,
    }


def random_disputes(
    station: Station, sidx: int, day: date, rng: random.Random, pools: Pools
) -> list[dict]:
    out = []
    for n in range(rng.randint(1, 3)):
        source = rng.choices(SOURCES, weights=SOURCE_WEIGHTS)[0]
        status = rng.choices(
            ("RESOLVED", "IN_MEDIATION", "UNRESOLVED", "REFERRED"), weights=(70, 15, 8, 7)
        )[0]
        out.append(
            dispute(
                record_number("JF", station, day, n), day, source, status, rng, pools, station.city
            )
        )
    return out


# --------------------------------------------------------------------------- traffic
# tuple layout (index constants), final values; early values only for corrected tickets
T_ID, T_AT, T_CODE, T_VEH, T_PLATE, T_PARTY, T_IDN, T_ACTION, T_FINE, T_ROAD, T_EARLY, T_CHG = (
    range(12)
)
_FINES = (20, 50, 50, 100, 200)


_VEH_BY_CODE = {c: VEHICLES[c.split("_", 1)[0]] for c in VIOLATIONS}
_PLATE_P = {c: {"MV": 1.0, "PED": 0.0}.get(c.split("_", 1)[0], 0.3) for c in VIOLATIONS}


def random_traffic(
    station: Station,
    sidx: int,
    day: date,
    rng: random.Random,
    pools: Pools,
    count: int,
    corrections: bool,
) -> list[tuple]:
    """`count` tickets of one station-day (fast path: one tuple per ticket)."""
    prefix = f"{CITY_CODE[station.city]}{day:%y}{sidx:03d}{day.timetuple().tm_yday:03d}"
    codes = rng.choices(VIOLATIONS, weights=VIOLATION_WEIGHTS, k=count)
    base = datetime(day.year, day.month, day.day, 6)
    names, ids, plates = pools.names, pools.ids[station.city], pools.plates[station.city]
    nn, ni, np_, nr = len(names), len(ids), len(plates), len(ROADS)
    rand = rng.random
    out = []
    append = out.append
    for n in range(count):
        code = codes[n]
        veh = _VEH_BY_CODE[code]
        plate = plates[int(rand() * np_)] if rand() < _PLATE_P[code] else ""
        r = rand()
        if r < 0.35:
            action, fine = "FINE", _FINES[int(r * 14.2857)]
        elif r < 0.75:
            action, fine = "WARNING", 0
        else:
            action, fine = "EDUCATION", 0
        party = names[int(rand() * nn)] if rand() < 0.6 else ""
        idn = ids[int(rand() * ni)] if party and rand() < 0.7 else ""
        at = base + timedelta(seconds=int(rand() * 57600))
        early, change = None, 0
        if corrections and rand() < 0.1:
            # an earlier export recorded a warning; the fine was added later
            early, change = ("WARNING", 0), 1
            action, fine = "FINE", 50
        append(
            (
                f"{prefix}{n:04d}",
                at,
                code,
                veh[int(rand() * len(veh))],
                plate,
                party,
                idn,
                action,
                fine,
                ROADS[int(rand() * nr)],
                early,
                change,
            )
        )
    return out
