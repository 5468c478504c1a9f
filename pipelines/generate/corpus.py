"""The engine: streams of clean records -> messy export files under raw/<type>/, plus truth.

A *stream* is one station's exports of one record type, written the way that station's
platform writes them (a `Profile`). Records are generated per station-day from a seeded RNG,
so a cumulative (month-to-date) export can regenerate earlier days instead of keeping them;
at most one stream-month is held in memory, and truth accumulates as records are generated.
"""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from pipelines.generate import model as m
from pipelines.generate.reference import Station
from pipelines.generate.render import (
    FIELDS,
    HEADERS,
    STATION_FIELD,
    Style,
    fmt_date,
    spellings,
    station_spellings,
)
from pipelines.generate.truth import Truth
from pipelines.generate.writers import Sheet, write_csv, xlsx_bytes
from pipelines.hashing import sha256_file

RECORD_TYPES = ("inspections", "disputes", "traffic")
_VIOLATION_SP = {c: spellings("violation", c) for c in m.VIOLATIONS}
_ACTION_SP = {c: spellings("action", c) for c in ("WARNING", "EDUCATION", "FINE")}
LABELS = {
    "inspections": ("百日行动场所检查登记", "inspection_export"),
    "disputes": ("矛盾纠纷排查化解台账", "dispute_export"),
    "traffic": ("交通违法查处记录", "traffic_export"),
}
CSV_DATE_FORMS = ("iso", "slash", "cn", "compact", "serial")
XLSX_DATE_FORMS = ("xdate", "serial", "xdate", "cn")
# deliberately unknown station spellings (one per record type), see truth.json
UNKNOWN_STATIONS = {
    "inspections": "运城市公安局盐湖分局 东郊所",
    "disputes": "宁波市公安局海曙分局望春派出所",
    "traffic": "运城交警支队直属一大队",
}
BAD_REASONS = {
    "inspections": (
        "missing_key",
        "bad_date",
        "implausible_date",
        "bad_count",
        "bad_count_text",
        "rectified_exceeds_found",
        "bad_boolean",
        "malformed_row",
    ),
    "disputes": (
        "missing_key",
        "bad_date",
        "implausible_date",
        "bad_count",
        "bad_count_text",
        "bad_boolean",
        "malformed_row",
    ),
    "traffic": (
        "missing_key",
        "bad_date",
        "implausible_date",
        "bad_count",
        "bad_count_text",
        "malformed_row",
    ),
}


@dataclass(frozen=True)
class Profile:
    fmt: str = "csv"  # csv | xlsx
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | gbk | gb18030 (csv)
    variant: int = 0  # header variant, see render.HEADERS
    station_source: str = "column"  # column | title (填报单位) | folder
    cadence: str = "daily"  # daily | monthly | cumulative (month to date)
    export_in: str = "name"  # where the export date is: name | title | both | none
    hand: bool = False  # hand-typed values: full-width digits, units, empty zeros
    bool_style: int = 0  # render.BOOL_STYLES index
    flat: bool = False  # file directly under raw/<type>/ (else a station folder)
    repeat_header: bool = False  # header repeated mid-file
    multi_sheet: bool = False  # xlsx: records split over two data sheets
    lineterm: str = "\r\n"
    title: bool = False  # report title line even without 填报单位/填报日期
    totals: bool = True  # 合计 / 总计 line at the bottom
    notice_bool: bool = False  # notices written as 是/否 where 0/1


@dataclass
class Stream:
    record_type: str
    station: Station
    sidx: int
    profile: Profile


Source = Callable[[Stream, date], list]


@dataclass
class Options:
    bad_rows: bool = True
    unknown_stations: bool = True
    broken_files: bool = True
    duplicates: bool = True
    extra_bad_every: int = 100  # one more bad row every N eligible files (large corpora)
    conflicts: bool = True  # a re-export of records under another station (merge)


class CorpusWriter:
    def __init__(
        self, out: Path, seed: int, pools: m.Pools, options: Options, tag: int | None = None
    ) -> None:
        self.out = out
        self.seed = seed
        self.tag = seed % 1000 if tag is None else tag  # in the numbers of fresh records
        self.pools = pools
        self.options = options
        self.truth = Truth()
        self.seen: dict[str, str] = {}
        self.file_no: dict[tuple[str, bool], int] = defaultdict(int)
        self.eligible = defaultdict(int)
        self.fresh = defaultdict(int)
        self.dup_candidates: dict[str, Path] = {}
        self._spell: dict[str, list[str]] = {}
        self.seq: dict[tuple[str, str], int] = {}
        self.streams: list[Stream] = []

    # ------------------------------------------------------------------ streams
    def write_stream(self, stream: Stream, days: list[date], source: Source) -> None:
        self.streams.append(stream)
        p = stream.profile
        for _, month_days in groupby(sorted(days), key=lambda d: (d.year, d.month)):
            mdays = list(month_days)
            if p.cadence == "daily":
                for d in mdays:
                    recs = source(stream, d)
                    if recs:
                        self._feed_truth(stream, d, recs)
                        self._write_file(stream, d, [(d, recs)], d)
                continue
            if p.cadence == "monthly":
                exports = [mdays[-1]]
            elif len(mdays) <= 6:
                exports = mdays
            else:
                exports = [d for d in mdays if d.day % 7 == 0 or d == mdays[-1]]
            e_last = exports[-1]
            if p.cadence == "monthly" and p.fmt == "csv":
                # stream the month straight to disk
                self._write_file(stream, e_last, self._lazy(stream, mdays, source), e_last)
                continue
            cache = []
            for d in mdays:
                recs = source(stream, d)
                if recs:
                    self._feed_truth(stream, d, recs)
                    cache.append((d, recs))
            for e in exports:
                part = [(d, r) for d, r in cache if d <= e]
                if part:
                    self._write_file(stream, e, part, e_last)

    def _lazy(self, stream: Stream, mdays: list[date], source: Source) -> Iterator:
        for d in mdays:
            recs = source(stream, d)
            if recs:
                self._feed_truth(stream, d, recs)
                yield d, recs

    def _feed_truth(self, stream: Stream, day: date, recs: list) -> None:
        st = stream.station
        if stream.record_type == "inspections":
            for r in recs:
                self.truth.inspection(st, r)
        elif stream.record_type == "disputes":
            for r in recs:
                self.truth.dispute(st, r)
        else:
            agg: dict[str, list[int]] = {}
            for t in recs:
                a = agg.get(t[m.T_CODE])
                if a is None:
                    a = agg[t[m.T_CODE]] = [0, 0]
                a[0] += 1
                a[1] += t[m.T_FINE]
            self.truth.traffic_batch(st, day, agg, len(recs))

    # ------------------------------------------------------------------ one file
    def _path(self, stream: Stream, export: date, seq: int) -> Path:
        p, rt, st = stream.profile, stream.record_type, stream.station
        label = LABELS[rt][1 if p.variant == 2 else 0]
        if p.cadence == "cumulative":
            label += "_月累计" if p.variant != 2 else "_mtd"
        stamp = f"{export:%Y%m%d}" if p.export_in in ("name", "both") else f"第{seq}期"
        ext = "xlsx" if p.fmt == "xlsx" else "csv"
        if p.station_source == "folder":
            return self.out / rt / st.short / f"{label}_{stamp}.{ext}"
        name = f"{st.short}_{label}_{stamp}.{ext}"
        if p.flat or p.station_source == "title":
            return self.out / rt / name
        return self.out / rt / st.short / name

    def _title_lines(self, stream: Stream, export: date, rng: random.Random) -> list[str]:
        p, st = stream.profile, stream.station
        lines = []
        if (
            p.title
            or p.hand
            or p.fmt == "xlsx"
            or p.station_source == "title"
            or p.export_in in ("title", "both")
        ):
            lines.append(f"{st.name}{LABELS[stream.record_type][0]}表")
        colon = "：" if rng.random() < 0.6 else ":"
        if p.station_source == "title":
            lines.append(f"填报单位{colon}{st.long}")
        if p.export_in in ("title", "both"):
            when = fmt_date(export, "cn" if rng.random() < 0.5 else "iso", False)
            lines.append(f"填报日期{colon}{when}")
        return lines

    def _write_file(self, stream: Stream, export: date, day_recs, e_last: date) -> None:
        p, rt = stream.profile, stream.record_type
        xlsx = p.fmt == "xlsx"
        self.file_no[(rt, xlsx)] += 1
        forms = XLSX_DATE_FORMS if xlsx else CSV_DATE_FORMS
        rng = random.Random(f"{self.seed}:file:{rt}:{stream.station.station_id}:{export}")
        style = Style(
            rng,
            date_form=forms[self.file_no[(rt, xlsx)] % len(forms)],
            hand=p.hand,
            bool_style=p.bool_style,
            xlsx=xlsx,
            notice_bool=p.notice_bool,
        )
        header = [
            (f, h)
            for f, h in HEADERS[rt][p.variant]
            if p.station_source == "column" or f != STATION_FIELD[rt]
        ]
        pick = [FIELDS[rt].index(f) for f, _ in header]
        skey = (rt, stream.station.station_id)
        seq_no = self.seq[skey] = self.seq.get(skey, 0) + 1
        path = self._path(stream, export, seq_no)
        titles = self._title_lines(stream, export, rng)
        gb_mark = p.fmt == "csv" and p.encoding == "gb18030"
        render = getattr(self, f"_render_{rt}")
        counter = {"rows": 0, "bad": defaultdict(int)}
        eligible = (
            not xlsx
            and p.station_source == "column"
            and (self.options.bad_rows or self.options.unknown_stations)
        )
        inject: list[str] = []
        if eligible:
            k = self.eligible[rt]
            self.eligible[rt] += 1
            if k == 0:
                inject = (list(BAD_REASONS[rt]) if self.options.bad_rows else []) + (
                    ["unknown_station"] if self.options.unknown_stations else []
                )
            elif self.options.extra_bad_every and k % self.options.extra_bad_every == 0:
                inject = [rng.choice(BAD_REASONS[rt] + ("unknown_station",))]
                if not self.options.bad_rows:
                    inject = ["unknown_station"] if self.options.unknown_stations else []
                elif not self.options.unknown_stations and inject == ["unknown_station"]:
                    inject = ["missing_key"]

        getter = itemgetter(*pick)

        days: set[date] = set()

        def data_rows() -> Iterator[tuple]:
            seq = 0
            for day, recs in day_recs:
                days.add(day)
                for rec in recs:
                    seq += 1
                    yield getter(render(stream, rec, export, e_last, style, seq, gb_mark))

        if xlsx:
            self._write_xlsx(stream, path, header, titles, data_rows(), counter)
        else:
            self._write_csv_file(
                stream,
                path,
                header,
                pick,
                titles,
                data_rows(),
                counter,
                inject,
                style,
                export,
                e_last,
                gb_mark,
                rng,
            )
        self._account(rt, path, counter)
        self.truth.files[path.relative_to(self.out).as_posix()] = {
            "station_id": stream.station.station_id,
            "record_type": rt,
            "days": sorted(d.isoformat() for d in days),
        }
        if (
            self.options.duplicates
            and rt not in self.dup_candidates
            and p.station_source != "folder"
        ):
            self.dup_candidates[rt] = path

    def _account(self, rt: str, path: Path, counter: dict) -> None:
        digest = sha256_file(path)
        if digest in self.seen:
            self.truth.file(rt, "duplicate")
            return
        self.seen[digest] = str(path)
        bad = {r: n for r, n in counter["bad"].items() if r != "unknown_station"}
        self.truth.file(rt, "loaded", counter["rows"], bad)

    def _totals(self, rt: str, header: list, sums: dict, n: int) -> list[str]:
        row = [""] * len(header)
        row[0] = "合计" if rt != "disputes" else "总计"
        if rt == "disputes":
            row[1] = f"共{n}条"
        for i, (f, _) in enumerate(header):
            if i and f in sums:
                row[i] = str(sums[f])
        return row

    def _write_csv_file(
        self,
        stream,
        path,
        header,
        pick,
        titles,
        rows,
        counter,
        inject,
        style,
        export,
        e_last,
        gb_mark,
        rng,
    ) -> None:
        p, rt = stream.profile, stream.record_type
        width = len(header)
        sum_fields = {"hazards_found", "hazards_rectified", "notices_issued", "fine_yuan"}
        sum_idx = [
            (j, f) for j, (f, _) in enumerate(header) if f in sum_fields and (p.totals or p.hand)
        ]

        def lines() -> Iterator[list]:
            for t in titles:
                yield [t] + ([""] * (width - 1) if rng.random() < 0.4 else [])
            if titles:
                yield []
            yield [h for _, h in header]
            sums: dict[str, int] = defaultdict(int)
            n = 0
            pending = list(inject)
            for row in rows:
                n += 1
                counter["rows"] += 1
                for j, f in sum_idx:
                    sums[f] += _as_int(row[j])
                yield row
                if pending and n % 2 == 1:
                    reason = pending.pop(0)
                    yield self._bad_row(
                        stream, reason, header, pick, style, export, e_last, gb_mark, n
                    )
                    counter["rows"] += 1
                    counter["bad"][reason.replace("_text", "")] += 1
                if n == 3 and p.hand:
                    yield [""] * width if rng.random() < 0.5 else []
                if n == 4 and p.repeat_header:
                    yield [h for _, h in header]
            for reason in pending:
                yield self._bad_row(stream, reason, header, pick, style, export, e_last, gb_mark, n)
                counter["rows"] += 1
                counter["bad"][reason.replace("_text", "")] += 1
            if p.totals or p.hand:
                yield []
                yield self._totals(rt, header, sums, n)

        # traffic values never hold a comma, quote or line break: fast unquoted writer
        write_csv(path, lines(), p.encoding, p.lineterm, plain=rt == "traffic")

    def _write_xlsx(self, stream, path, header, titles, rows, counter) -> None:
        p, rt = stream.profile, stream.record_type
        data = list(rows)
        counter["rows"] += len(data)
        parts = [data]
        if p.multi_sheet and len(data) >= 2:
            half = len(data) // 2
            parts = [data[:half], data[half:]]
        sheets = []
        last = f"{chr(64 + min(len(header), 26))}"
        for k, part in enumerate(parts):
            rows_out: list[list] = []
            merges = []
            for t in titles:
                rows_out.append([t])
                merges.append(f"A{len(rows_out)}:{last}{len(rows_out)}")
            if titles:
                rows_out.append([])
            rows_out.append([h for _, h in header])
            rows_out.extend(part)
            if p.totals:
                rows_out.append(self._totals(rt, header, {}, len(part)))
            sheets.append(
                Sheet(("数据", "续表")[k] if len(parts) > 1 else "Sheet1", rows_out, merges)
            )
        notes = [
            ["填表说明"],
            ["1. 本表由业务系统导出，数据截至填报日期。"],
            ["2. 隐患单位为处，通知书单位为份。"],
        ]
        sheets.append(Sheet("填表说明", notes))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(xlsx_bytes(sheets))

    # ------------------------------------------------------------------ record rendering
    def _spellings(self, st: Station) -> list[str]:
        sp = self._spell.get(st.station_id)
        if sp is None:
            sp = self._spell[st.station_id] = station_spellings(st)
        return sp

    def _station_text(self, stream: Stream, rng: random.Random) -> str:
        sp = self._spellings(stream.station)
        return sp[int(rng.random() * len(sp))]

    def _name(self, name: str, key: str, gb_mark: bool) -> str:
        if name and gb_mark and zlib.crc32(key.encode()) % 3 == 0:
            name = name[0] + m.GB18030_ONLY
        if name:
            self.truth.pii.add(name)
        return name

    def _render_inspections(self, stream, rec, export, e_last, style, seq, gb_mark):
        rng = style.rng
        change = min(rec["change"], (e_last - rec["day"]).days)
        final = (export - rec["day"]).days >= change or rec["rect_early"] is None
        rect = rec["rect"] if final else rec["rect_early"]
        vt = rec["vt"]
        vsp = spellings("venue_type", vt)
        notices = rec["notices"]
        if style.notice_bool and notices <= 1:
            nv = "是" if notices else "否"
        else:
            nv = style.count(notices, "notices_issued")
        rental = vt in ("RENTAL_HOUSING", "CONVERTED_FACTORY_FLATS")
        pools = self.pools
        owner = pools.names[zlib.crc32(rec["id"].encode()) % len(pools.names)]
        self.truth.pii.add(owner)
        if rec["phone"]:
            self.truth.pii.add(rec["phone"])
        return (
            str(seq),
            rec["id"],
            style.date(rec["day"]),
            self._station_text(stream, rng),
            rec["venue"] or "",
            vsp[int(rng.random() * len(vsp))],
            rec["address"],
            style.count(rec["found"], "hazards_found"),
            style.count(rect, "hazards_rectified"),
            nv,
            style.boolean(rec["closure"], closure=True),
            style.count(rec["households"], "rental_households") if rental else "",
            style.count(rec["rooms"], "rental_rooms") if rental else "",
            self._name(rec["officer"], rec["id"], gb_mark),
            rec["phone"],
            rec["remarks"],
            owner,
        )

    def _render_disputes(self, stream, rec, export, e_last, style, seq, gb_mark):
        rng = style.rng
        change = min(rec["change"], (e_last - rec["day"]).days)
        if (export - rec["day"]).days >= change:
            status, result, fu, esc = (
                rec["status"],
                rec["result"],
                rec["follow_ups"],
                rec["escalated"],
            )
            resolved = rec["day"] + timedelta(days=change) if status == "RESOLVED" else None
        else:
            status, result, fu, esc, resolved = "IN_MEDIATION", None, 0, False, None

        def sp(dim: str, code: str) -> str:
            s = spellings(dim, code)
            return s[int(rng.random() * len(s))]

        if rec["idn"]:
            self.truth.pii.add(rec["idn"])
        self.truth.pii.add(rec["phone"])
        return (
            str(seq),
            rec["id"],
            style.date(rec["day"]),
            self._station_text(stream, rng),
            sp("dispute_source", rec["source"]),
            sp("dispute_type", rec["dtype"]),
            sp("risk_level", rec["risk"]),
            sp("dispute_status", status),
            style.date(resolved) if resolved else "",
            rec["channel"],
            sp("mediation_result", result) if result else "",
            style.boolean(esc),
            style.count(fu, "follow_up_visits"),
            self._name(rec["party"], rec["id"], gb_mark),
            rec["idn"],
            rec["phone"],
        )

    def _render_traffic(self, stream, t, export, e_last, style, seq, gb_mark):
        r = style.rng.random
        code = t[2]
        action, fine = t[7], t[8]
        if t[10] is not None and (export - t[1].date()).days < min(
            t[11], (e_last - t[1].date()).days
        ):
            action, fine = t[10]
        vsp = _VIOLATION_SP[code]
        text = vsp[int(r() * len(vsp))]
        code_cell = code if r() < 0.5 else ""
        if code_cell and r() < 0.03 and stream.profile.variant != 1:  # V1 has no code column
            # the code column wins over a contradicting text
            text = _VIOLATION_SP[m.VIOLATIONS[int(r() * 10)]][-1]
        asp = _ACTION_SP[action]
        if not fine:
            fine_v = "" if style.hand or r() < 0.5 else ("0" if not style.xlsx else 0)
        elif style.hand or style.xlsx:
            fine_v = style.count(fine, "fine_yuan")
        else:
            fine_v = str(fine)
        pii = self.truth.pii
        plate, idn, party = t[4], t[6], t[5]
        if plate:
            pii.add(plate)
        if idn:
            pii.add(idn)
        if party:
            party = self._name(party, t[0], gb_mark)
        sp = self._spell.get(stream.station.station_id) or self._spellings(stream.station)
        fmt = style.__dict__.get("fmt_dt") or style.__dict__.setdefault(
            "fmt_dt", style.datetime_formatter()
        )
        return (
            str(seq),
            t[0],
            fmt(t[1]),
            sp[int(r() * len(sp))],
            t[9],
            text,
            code_cell,
            t[3],
            plate,
            party,
            idn,
            asp[int(r() * len(asp))],
            fine_v,
        )

    # ------------------------------------------------------------------ bad rows
    def _fresh_id(self, rt: str) -> str:
        """A number no generated record has; tagged per corpus, so two corpora loaded into
        one warehouse never make one record of their unknown-station rows."""
        self.fresh[rt] += 1
        n, tag = self.fresh[rt], self.tag
        return {
            "inspections": f"JCX{tag:03d}{n:06d}",
            "disputes": f"JFX{tag:03d}{n:06d}",
            "traffic": f"99{tag:03d}{n:011d}",
        }[rt]

    def _bad_row(self, stream, reason, header, pick, style, export, e_last, gb_mark, seq):
        rt, st = stream.record_type, stream.station
        rng = random.Random(f"{self.seed}:bad:{rt}:{self.fresh[rt]}:{reason}")
        rid = self._fresh_id(rt)
        day = min(export, e_last)
        if rt == "inspections":
            rec = m.inspection(
                rid,
                day,
                "SMALL_SHOP",
                m.venue_name("SMALL_SHOP", 799),
                rng,
                self.pools,
                found=1,
                rect=1,
            )
        elif rt == "disputes":
            rec = m.dispute(rid, day, "CANVASS", "RESOLVED", rng, self.pools, st.city)
            rec["change"] = 0
        else:
            rec = m.random_traffic(st, stream.sidx, day, rng, self.pools, 1, False)[0]
            rec = (rid, *rec[1:])
        values = list(getattr(self, f"_render_{rt}")(stream, rec, day, day, style, seq, gb_mark))
        fields = FIELDS[rt]

        def put(field: str, value: str) -> None:
            values[fields.index(field)] = value

        date_field = {
            "inspections": "inspected_on",
            "disputes": "reported_on",
            "traffic": "occurred_at",
        }[rt]
        count_field = {
            "inspections": "notices_issued",
            "disputes": "follow_up_visits",
            "traffic": "fine_yuan",
        }[rt]
        if reason == "missing_key":
            put(fields[1], "")
        elif reason == "bad_date":
            put(date_field, "2022-02-30" if rt != "traffic" else "2022-02-30 10:15")
        elif reason == "implausible_date":
            put(date_field, "1999-12-31" if rt != "traffic" else "1999-12-31 10:15")
        elif reason == "bad_count":
            put(count_field, "-2")
        elif reason == "bad_count_text":
            put(count_field, "若干")
        elif reason == "rectified_exceeds_found":
            put("hazards_found", "1")
            put("hazards_rectified", "3")
        elif reason == "bad_boolean":
            put("closure_ordered" if rt == "inspections" else "escalated_to_criminal", "待定")
        elif reason == "unknown_station":
            name = UNKNOWN_STATIONS[rt]
            put(STATION_FIELD[rt], name)
            self.truth.unknown_names.add(name)
            self.truth.unknown_station += 1
        row = [values[i] for i in pick]
        if reason == "malformed_row":
            row = row[:3]
        return row

    # ------------------------------------------------------------------ broken, duplicates
    def write_broken(self, stations: list[Station]) -> None:
        rng = random.Random(f"{self.seed}:broken")
        st = stations[0]
        # empty file
        p = self.out / "inspections" / st.short / "检查登记_空白导出.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
        self.truth.file("inspections", "failed")
        # title lines but no recognisable header anywhere
        p = self.out / "inspections" / "工作量统计表.csv"
        text = (
            f"{st.name}百日行动工作量统计表\r\n填报单位：{st.long}\r\n\r\n项目,本周,累计\r\n"
            f"巡逻,{rng.randint(5, 40)},{rng.randint(50, 300)}\r\n"
            f"走访,{rng.randint(5, 40)},{rng.randint(50, 300)}\r\n"
        )
        p.write_bytes(text.encode("utf-8"))
        self.truth.file("inspections", "failed")
        # truncated xlsx
        sheet = Sheet(
            "Sheet1",
            [
                ["矛盾纠纷台账"],
                ["纠纷编号", "登记日期", "派出所"],
                ["JFX999999", "2022-06-25", st.name],
            ],
        )
        whole = xlsx_bytes([sheet, Sheet("说明", [[f"批次{rng.randrange(10**6)}"]])])
        p = self.out / "disputes" / f"{st.short}_纠纷台账_上传中断.xlsx"
        p.write_bytes(whole[: len(whole) * 3 // 5])
        self.truth.file("disputes", "failed")
        # an xlsx whose only sheet is notes (no header anywhere)
        p = self.out / "disputes" / "填表说明.xlsx"
        p.write_bytes(
            xlsx_bytes(
                [
                    Sheet(
                        "填表说明",
                        [["填表说明"], ["1. 纠纷编号必填。"], [f"版本 {rng.randint(2, 9)}"]],
                    )
                ]
            )
        )
        self.truth.file("disputes", "failed")
        # binary junk named .csv (undecodable in every supported encoding)
        junk = bytearray(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        junk += bytes(rng.randrange(256) for _ in range(2000))
        junk += b"\xff\xfe\x00\x80\xff\x00"
        for enc in ("utf-8", "gb18030"):
            try:
                junk.decode(enc)
                raise AssertionError(f"junk decodes as {enc}")
            except UnicodeDecodeError:
                pass
        p = self.out / "traffic" / "导出失败_乱码.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes(junk))
        self.truth.file("traffic", "failed")

    def write_conflict(
        self, chosen: list[Station], days: list[date], source: Source, spare: Station | None
    ) -> None:
        """A station that took over another's records (a merge) re-exports two of them under
        its own name, a day after the corpus ends: same record numbers, dates and venues as
        the original station's exports. The models must hold the copies back as key
        conflicts (truth: model_quarantine.key_conflict) and keep the originals."""
        if spare is None:
            return
        origin = next(
            (
                st
                for st in self.streams
                if st.record_type == "inspections" and st.profile.export_in != "none"
            ),
            None,
        )
        day = next((d for d in reversed(days) if origin and source(origin, d)), None)
        if origin is None or day is None:
            return
        records = source(origin, day)[:2]
        export = max(days) + timedelta(days=1)
        profile = Profile(
            fmt="csv",
            station_source="title",
            cadence="daily",
            export_in="both",
            flat=True,
            title=True,
        )
        self._write_file(
            Stream("inspections", spare, origin.sidx, profile), export, [(day, records)], export
        )
        for rec in records:
            self.truth.key_conflicts.append(
                {
                    "record_type": "inspections",
                    "record_number": rec["id"],
                    "kept_station_id": origin.station.station_id,
                    "held_back_station_id": spare.station_id,
                }
            )

    def write_duplicates(self) -> None:
        for rt in RECORD_TYPES:
            src = self.dup_candidates.get(rt)
            if src is None:
                continue
            dst = self.out / rt / "重复上传" / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
            self.truth.file(rt, "duplicate")


_FW = str.maketrans("０１２３４５６７８９", "0123456789")


def _as_int(value) -> int:
    if isinstance(value, int):
        return value
    if not value:
        return 0
    if value.isascii() and value.isdigit():
        return int(value)
    digits = "".join(c for c in value.translate(_FW) if c.isdigit())
    return int(digits) if digits else 0


def assign_profiles(
    record_type: str, sidx: int, seed: int, defaults: list[Profile], bulk: bool
) -> Profile:
    """The first stations cycle through `defaults` (every feature covered); others are random.

    bulk: no daily files beyond the default streams (few, larger files), traffic monthly.
    """
    if sidx < len(defaults):
        return defaults[(sidx + seed) % len(defaults)]
    rng = random.Random(f"{seed}:profile:{record_type}:{sidx}")
    fmt = "xlsx" if record_type != "traffic" and rng.random() < 0.2 else "csv"
    cadence = rng.choice(
        ("daily", "monthly", "cumulative")
        if fmt == "csv" and not bulk
        else ("monthly", "cumulative")
    )
    if record_type == "traffic":
        cadence = "monthly" if bulk else rng.choice(("daily", "monthly"))
    export_in = rng.choice(("name", "title", "both") + (("none",) if cadence == "daily" else ()))
    return replace(
        Profile(),
        fmt=fmt,
        encoding=rng.choice(("utf-8", "utf-8-sig", "gbk", "gb18030")),
        variant=rng.randrange(3),
        station_source=rng.choice(("column", "column", "title", "folder")),
        cadence=cadence,
        export_in=export_in,
        hand=rng.random() < 0.4,
        bool_style=rng.randrange(5),
        flat=rng.random() < 0.3,
        lineterm=rng.choice(("\r\n", "\n")),
        totals=rng.random() < 0.7,
        notice_bool=rng.random() < 0.2,
    )
