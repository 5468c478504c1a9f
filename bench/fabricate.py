"""A tiny messy corpus for the smoke test and for developing the contenders without the
project's generator: title/blank/totals lines, header synonyms, UTF-8 / BOM / GBK / GB18030
CSV, an xlsx with a notes sheet, a byte-identical copy, an empty file, cumulative exports
(a later file repeats and corrects earlier rows). Returns the data rows per record type that a
loader must read (duplicates and failed files excluded).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

STATIONS = ["古林派出所", "高桥派出所", "江夏派出所"]
VENUE_TYPES = ["小商店", "小餐饮", "小旅馆", "出租屋", "宾馆酒店"]
VIOLATIONS = ["行人闯红灯", "非机动车闯红灯", "逆向行驶", "电动自行车未戴头盔", "车窗抛物"]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030"]


def _date_forms(d: dt.date, i: int) -> str:
    forms = [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        d.strftime("%Y%m%d"),
    ]
    return forms[i % len(forms)]


def _csv_text(title: list[str], header: list[str], rows: list[list[str]], totals: bool) -> str:
    lines = [*title, "", ",".join(header)]
    lines += [",".join(r) for r in rows]
    if totals:
        lines.append("合计," + ",".join([""] * (len(header) - 1)))
    return "\r\n".join(lines) + "\r\n"


def fabricate(
    out: Path, stations: int = 3, days: int = 3, rows_per_day: int = 20, seed: int = 7
) -> dict[str, int]:
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    start = dt.date(2022, 6, 10)
    expected = {"inspections": 0, "disputes": 0, "traffic": 0}
    n_file = 0
    for s in range(stations):
        station = STATIONS[s % len(STATIONS)] + ("" if s < len(STATIONS) else str(s))
        for d in range(days):
            day = start + dt.timedelta(days=d)
            enc = ENCODINGS[n_file % len(ENCODINGS)]
            n_file += 1
            # inspections: cumulative month-to-date export, the station only in the title
            header = [
                "序号",
                "检查编号",
                "检查日期",
                "场所名称",
                "场所类型",
                "发现隐患(处)",
                "督促整改",
                "下发通知书",
                "是否停业整改",
                "联系电话",
            ]
            rows = []
            for dd in range(d + 1):
                for k in range(3):
                    found = rng.randint(0, 3)
                    rows.append(
                        [
                            str(len(rows) + 1),
                            f"JC{s:02d}{dd:03d}{k}",
                            _date_forms(start + dt.timedelta(days=dd), k),
                            f"店{s}-{dd}-{k}",
                            rng.choice(VENUE_TYPES),
                            f"{found}处",
                            str(min(found, rng.randint(0, found + 1))),
                            rng.choice(["是", "否", "1", ""]),
                            rng.choice(["是", "否"]),
                            f"138{rng.randint(0, 10**8):08d}",
                        ]
                    )
            text = _csv_text(
                [f"{station}检查登记表", f"填报单位:{station}", f"填报日期:{day.isoformat()}"],
                header,
                rows,
                totals=True,
            )
            path = out / "inspections" / station / f"检查_{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode(enc))
            expected["inspections"] += len(rows)

            # disputes: English headers, a station column
            header = [
                "dispute_id",
                "reported_at",
                "station",
                "source",
                "dispute_type",
                "risk_level",
                "status",
                "resolved_at",
                "mediation_result",
                "escalated",
                "follow_ups",
                "party_name",
                "id_number",
            ]
            rows = []
            for k in range(4):
                status = rng.choice(["已化解", "调解中", "未化解"])
                rows.append(
                    [
                        f"JF{s:02d}{d:03d}{k}",
                        f"{day:%Y/%m/%d} 09:{k:02d}",
                        station,
                        rng.choice(["摸排", "接处警", "网格"]),
                        "邻里纠纷",
                        rng.choice(["低", "中", "高"]),
                        status,
                        day.isoformat() if status == "已化解" else "",
                        rng.choice(["成功", "失败", ""]),
                        rng.choice(["是", "否"]),
                        str(rng.randint(0, 3)),
                        "张三",
                        "33020319800101123X",
                    ]
                )
            text = _csv_text(["矛盾纠纷排查化解台账"], header, rows, totals=False)
            path = out / "disputes" / f"{station}_纠纷_{day:%Y-%m-%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode(ENCODINGS[(n_file + 1) % len(ENCODINGS)]))
            expected["disputes"] += len(rows)

            # traffic: the bulk, a blank line inside the rows and a repeated header line
            header = [
                "违法编号",
                "违法时间",
                "执勤单位",
                "违法地点",
                "违法行为",
                "号牌号码",
                "处理方式",
                "罚款金额(元)",
            ]
            rows = []
            for k in range(rows_per_day):
                action = rng.choice(["警告", "罚款", "教育"])
                rows.append(
                    [
                        f"T{s:02d}{d:03d}{k:05d}",
                        f"{day.isoformat()} 08:{k % 60:02d}",
                        station,
                        "中山路",
                        rng.choice(VIOLATIONS),
                        f"浙B{rng.randint(10000, 99999)}",
                        action,
                        "50" if action == "罚款" else "",
                    ]
                )
            body = rows[: len(rows) // 2] + [[""] * len(header), header] + rows[len(rows) // 2 :]
            text = _csv_text([], header, body, totals=True)
            path = out / "traffic" / station / f"{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode(ENCODINGS[(n_file + 2) % len(ENCODINGS)]))
            expected["traffic"] += len(rows)

    expected["inspections"] += _xlsx(out / "inspections" / "月报.xlsx", start)
    # a byte-identical copy elsewhere, an empty file: neither adds rows
    first = sorted((out / "traffic").rglob("*.csv"))[0]
    shutil.copyfile(first, out / "traffic" / "copy_of_first.csv")
    (out / "disputes" / "empty.csv").write_bytes(b"")
    return expected


def _xlsx(path: Path, start: dt.date) -> int:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "检查"
    ws.append(["横河派出所检查汇总"])
    ws.append(["填报单位", "横河派出所"])
    ws.append(["记录编号", "日期", "单位名称", "场所类别", "隐患数", "整改数"])
    n = 0
    for k in range(5):
        ws.append(
            [f"X{k:04d}", dt.datetime.combine(start, dt.time()), f"厂{k}", "小生产加工企业", 2, 1]
        )
        n += 1
    ws.append(["合计", None, None, None, 10, 5])
    notes = book.create_sheet("说明")
    notes.append(["本表由系统导出"])
    book.save(path)
    return n
