"""The generator: deterministic, internally consistent truth, every messy feature present,
the Yuncheng calibration scenario, and the committed sample under raw/."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from pipelines.generate import generate_corpus, generate_scenario
from pipelines.generate.reference import NINE_SMALL, seed_stations
from pipelines.generate.scenarios import YUNCHENG_REPORT, check_yuncheng
from pipelines.textnorm import normalise_text

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PARAMS = {"stations": 4, "days": 3, "seed": 1}  # documented in raw/README.md
ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
PHONE = re.compile(r"\b1\d{10}\b")
PLATE = re.compile(r"[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}")


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def decode(data: bytes) -> tuple[str | None, str | None]:
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    return None, None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "raw"
    truth = generate_corpus(out, stations=4, days=4, seed=7)
    texts = {}
    for p in sorted(out.rglob("*.csv")):
        text, _ = decode(p.read_bytes())
        if text is not None:
            texts[p] = text
    return out, truth, texts


def test_same_seed_same_bytes(tmp_path):
    a = generate_corpus(tmp_path / "a", stations=3, days=3, seed=5)
    b = generate_corpus(tmp_path / "b", stations=3, days=3, seed=5)
    assert a == b
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    c = generate_corpus(tmp_path / "c", stations=3, days=3, seed=6)
    assert tree(tmp_path / "c") != tree(tmp_path / "a") and c != a


def test_truth_json_matches_return_value_and_contract(corpus):
    out, truth, _ = corpus
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == truth
    assert set(truth) == {
        "params",
        "landing",
        "facts",
        "model_quarantine",
        "unknown_station_names",
        "key_conflicts",
        "shared_record_numbers",
        "coverage",
        "files",
        "pii_values",
        "mart_campaign_inspections",
        "mart_campaign_disputes",
        "mart_campaign_traffic",
    }
    for rt in ("inspections", "disputes", "traffic"):
        files = [p for p in (out / rt).rglob("*") if p.is_file()]
        assert truth["landing"][rt]["files"] == len(files)
        assert truth["landing"][rt]["files_failed"] >= 1
        assert truth["landing"][rt]["files_duplicate"] >= 1
    assert truth["model_quarantine"] == {
        "unknown_station": 3,
        "unmapped_value": 0,
        "key_conflict": 2,
    }
    # station-local numbering: one record number used by several stations (other records)
    assert truth["shared_record_numbers"]["inspections"] > 0
    kept = {c["kept_station_id"] for c in truth["key_conflicts"]}
    assert len(kept) == 1 and not kept & {c["held_back_station_id"] for c in truth["key_conflicts"]}
    for mart in ("mart_campaign_inspections", "mart_campaign_disputes", "mart_campaign_traffic"):
        assert truth[mart]
        for row in truth[mart]:
            assert all(type(v) in (int, str) for v in row.values()), row


def _check_rollups(rows, code_col, additive):
    stations = {s.name: s for s in seed_stations()}
    by_level = defaultdict(lambda: defaultdict(int))
    levels = defaultdict(set)
    for r in rows:
        levels[r["campaign_id"]].add(r["level"])
        if r["level"] == "station":
            st = stations[r["unit_name"]]
            for level, unit in (
                ("bureau", st.bureau),
                ("city", st.city),
                ("province", st.province),
            ):
                for col in additive:
                    by_level[(r["campaign_id"], level, unit, r[code_col])][col] += r[col]
    for r in rows:
        if r["level"] != "station":
            key = (r["campaign_id"], r["level"], r["unit_name"], r[code_col])
            assert {c: r[c] for c in additive} == dict(by_level[key]), key
    for cid, present in levels.items():
        assert present == {"station", "bureau", "city", "province"}, cid
    # ALL (and ALL_NINE_SMALL) equal the sum of their codes
    parts = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r[code_col] in ("ALL", "ALL_NINE_SMALL"):
            continue
        groups = ["ALL"] + (["ALL_NINE_SMALL"] if r[code_col] in NINE_SMALL else [])
        for g in groups:
            for col in additive:
                parts[(r["campaign_id"], r["level"], r["unit_name"], g)][col] += r[col]
    rolled = [r for r in rows if r[code_col] in ("ALL", "ALL_NINE_SMALL")]
    assert rolled
    for r in rolled:
        key = (r["campaign_id"], r["level"], r["unit_name"], r[code_col])
        assert {c: r[c] for c in additive} == dict(parts[key]), key


def test_truth_rollups_are_consistent(corpus):
    _, truth, _ = corpus
    # venues and closures are distinct per (station, venue); venue names never repeat across
    # types, so they add up like the sums here
    _check_rollups(
        truth["mart_campaign_inspections"],
        "venue_type_code",
        (
            "venues_inspected",
            "inspection_visits",
            "hazards_found",
            "hazards_rectified",
            "notices_issued",
            "closures_ordered",
            "rental_households",
            "rental_rooms",
        ),
    )
    _check_rollups(
        truth["mart_campaign_disputes"],
        "source_code",
        ("disputes_found", "disputes_resolved", "mediations", "mediation_successes", "escalations"),
    )
    _check_rollups(truth["mart_campaign_traffic"], "violation_code", ("violations", "fines_yuan"))
    campaigns = {
        r["campaign_id"]
        for m in ("mart_campaign_inspections", "mart_campaign_traffic")
        for r in truth[m]
    }
    assert campaigns == {
        "SUMMER_100D_2022",
        "NB_OFFICERS_TO_GRASSROOTS_2018",
        "NB_CIVILISED_CITY_TRAFFIC_2020",
    }
    for r in truth["mart_campaign_inspections"]:
        assert r["hazards_rectified"] <= r["hazards_found"]
        assert r["venues_inspected"] <= r["inspection_visits"]
    for r in truth["mart_campaign_disputes"]:
        assert r["mediation_successes"] <= r["mediations"] <= r["disputes_found"]
        assert r["disputes_resolved"] <= r["disputes_found"]
    # facts count records outside every campaign too
    total = sum(
        r["violations"]
        for r in truth["mart_campaign_traffic"]
        if r["level"] == "province" and r["violation_code"] == "ALL"
    )
    assert truth["facts"]["traffic"] > total


def test_every_messy_feature_is_present(corpus):
    out, truth, texts = corpus
    everything = "\n".join(texts.values())
    raw = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.suffix == ".csv"}
    # encodings
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values()), "utf-8 bom"
    assert any(
        not b.startswith(b"\xef\xbb\xbf")
        and decode(b)[1] == "utf-8"
        and re.search(rb"[\x80-\xff]", b)
        for b in raw.values()
    ), "utf-8"
    gbk_files = [b for b in raw.values() if decode(b)[1] == "gb18030"]
    gbk_only = [b for b in gbk_files if _decodes(b, "gbk")]
    gb18030_only = [b for b in gbk_files if not _decodes(b, "gbk")]
    assert gbk_only and gb18030_only, "gbk and gb18030 (with a non-GBK character)"
    assert "䶮" in everything
    # xlsx: merged title, notes sheet, real dates and serials, several data sheets
    xlsx = [p for p in out.rglob("*.xlsx") if zipfile.is_zipfile(p)]
    merged = notes = dates = serials = multi = False
    for p in xlsx:
        wb = openpyxl.load_workbook(p)
        names = wb.sheetnames
        notes |= "填表说明" in names
        multi |= len(names) >= 3
        for ws in wb.worksheets:
            merged |= bool(ws.merged_cells.ranges)
            for row in ws.iter_rows(values_only=True):
                dates |= any(hasattr(v, "year") for v in row)
                serials |= any(isinstance(v, int) and 40000 < v < 50000 for v in row)
    assert merged and notes and dates and serials and multi
    # header synonyms and decorations (CSV and xlsx)
    cells = everything + "\n".join(
        ",".join(str(v) for v in row if v is not None)
        for p in xlsx
        for ws in openpyxl.load_workbook(p).worksheets
        for row in ws.iter_rows(values_only=True)
    )
    for header in (
        "检查编号",
        "记录编号",
        "record_id",
        "inspection_date",
        "发现隐患(处)",
        "整改通知书（份）",
        "检查 时间",
        "备\u3000注",
        "ｏｆｆｉｃｅｒ",
        "序号",
        "决定书编号",
        "违法编号",
        "ticket_id",
        "罚款金额(元)",
        "罚款（元）",
        "纠纷编号",
        "dispute_id",
        "受理 时间",
        "场所负责人",
    ):
        assert header in cells, header
    # title, blank and totals lines
    for marker in ("填报单位", "填报日期", "合计", "总计", "\n\n", "\r\n\r\n"):
        assert marker in everything, repr(marker)
    # date and time forms
    for pattern in (
        r",20\d\d-\d\d-\d\d,",
        r",20\d\d/\d{1,2}/\d{1,2},",
        r",20\d\d年\d{1,2}月\d{1,2}日,",
        r",20\d{6},",
        r",4\d{4},",
        r",20\d\d-\d\d-\d\d \d\d:\d\d:\d\d,",
        r",20\d\d-\d\d-\d\d \d\d:\d\d,",
        r",20\d\d/\d{1,2}/\d{1,2} \d{1,2}:\d\d,",
    ):
        assert re.search(pattern, everything), pattern
    # values: full-width digits, units, booleans
    for pattern in (
        r",[０-９]+",
        r",\d+处",
        r",\d+元",
        r",是",
        r",否",
        r",[YN]",
        r",[10]",
        r",未整改",
    ):
        assert re.search(pattern + r"(?=,|\r?\n)", everything), pattern
    assert "√" in cells
    # station from a column, a 填报单位 title line, and the folder name
    folder_files = [
        p
        for p in raw
        if p.parent.name != p.parents[1].name
        and p.parent.name in {s.short for s in seed_stations()}
        and not any(h in texts.get(p, "") for h in ("派出所,", "station,", "受理单位"))
    ]
    assert folder_files, "a file whose station is only its folder"
    # spacing variants and aliases of station names
    assert re.search(r",[^,\n]{2} 所,", everything) and "\u3000派出所" in everything
    # cumulative exports: the same record (one station's number) twice, with a correction;
    # numbers are station-local, so the station (its files' name or folder) is in the key
    ids = defaultdict(set)
    for path, text in texts.items():
        station = (
            path.parent.name
            if path.parent.name != path.parents[1].name and path.parents[1].name != out.name
            else path.name.split("_")[0]
        )
        for line in text.splitlines():
            m = re.search(r"\b(JC\d{11}|JF\d{11})\b", line)
            if m:
                ids[(station, m.group(1))].add(line.split(",", 1)[1] if line[0].isdigit() else line)
    assert any(len(v) > 1 for v in ids.values()), "a corrected record in a later export"
    assert any("月累计" in p.name or "mtd" in p.name for p in out.rglob("*"))
    # byte-identical duplicates at another path
    digests = defaultdict(list)
    for p in out.rglob("*"):
        if p.is_file():
            digests[hashlib.sha256(p.read_bytes()).hexdigest()].append(p)
    assert sum(1 for v in digests.values() if len(v) > 1) >= 3
    # broken files: empty, truncated xlsx, junk, a CSV without a header, notes-only xlsx
    assert any(p.stat().st_size == 0 for p in out.rglob("*") if p.is_file())
    assert any(not zipfile.is_zipfile(p) for p in out.rglob("*.xlsx"))
    assert any(decode(b)[0] is None for b in raw.values())
    # bad rows for every landing reason code
    reasons = set()
    for rt in ("inspections", "disputes", "traffic"):
        reasons |= set(truth["landing"][rt]["rows_quarantined_by_reason"])
        assert truth["landing"][rt]["rows_quarantined_landing"] == sum(
            truth["landing"][rt]["rows_quarantined_by_reason"].values()
        )
    assert reasons == {
        "missing_key",
        "bad_date",
        "implausible_date",
        "bad_count",
        "bad_boolean",
        "rectified_exceeds_found",
        "malformed_row",
    }
    # unknown stations: written, listed, and resolving to nothing in the seed
    known = {normalise_text(a) for s in seed_stations() for a in (s.name, s.station_id, *s.aliases)}
    for name in truth["unknown_station_names"]:
        assert name in everything
        assert normalise_text(name) not in known
    # personal data: every match of the patterns is listed in pii_values
    pii = set(truth["pii_values"])
    for rx in (ID_NUMBER, PHONE, PLATE):
        found = set(rx.findall(everything))
        assert found and found <= pii, rx.pattern


def _decodes(data: bytes, enc: str) -> bool:
    try:
        data.decode(enc)
        return True
    except UnicodeDecodeError:
        return False


def test_raw_spellings_come_from_the_seeds(corpus):
    from pipelines.generate.reference import crosswalk

    _, _, texts = corpus
    allowed = {
        v for codes in crosswalk().values() for spellings in codes.values() for v in spellings
    }
    venue_col = re.compile(r"^(?:\d+,)?JC\d{11},[^,]*,[^,]*,[^,]*,([^,]*),")
    seen = 0
    for text in texts.values():
        for line in text.splitlines():
            m = venue_col.match(line)
            if m and m.group(1) in allowed:
                seen += 1
    assert seen > 10


@pytest.fixture(scope="module")
def yuncheng(tmp_path_factory):
    out = tmp_path_factory.mktemp("yuncheng") / "raw"
    return out, generate_scenario("yuncheng-2022", out)


def test_yuncheng_scenario_reproduces_the_report(yuncheng):
    _, truth = yuncheng
    check_yuncheng(truth)
    city = {
        r["venue_type_code"]: r
        for r in truth["mart_campaign_inspections"]
        if r["level"] == "city"
        and r["unit_name"] == "运城市"
        and r["campaign_id"] == "SUMMER_100D_2022"
    }
    nine = city["ALL_NINE_SMALL"]
    assert (
        nine["venues_inspected"],
        nine["hazards_found"],
        nine["hazards_rectified"],
        nine["notices_issued"],
    ) == (4034, 196, 189, 60)
    assert (
        city["RENTAL_HOUSING"]["rental_households"],
        city["RENTAL_HOUSING"]["rental_rooms"],
    ) == (1542, 7521)
    assert city["HOTEL"]["inspection_visits"] == 478
    assert city["FOOT_MASSAGE"]["inspection_visits"] == 215
    assert city["ENTERTAINMENT"]["closures_ordered"] == 7
    assert city["BATHHOUSE"]["closures_ordered"] == 2
    assert city["ALL"]["notices_issued"] == 105
    disputes = {
        r["source_code"]: (r["disputes_found"], r["disputes_resolved"])
        for r in truth["mart_campaign_disputes"]
        if r["level"] == "city" and r["unit_name"] == "运城市"
    }
    assert disputes["CANVASS"] == YUNCHENG_REPORT["disputes"]["CANVASS"] == (366, 267)
    assert disputes["CALL"] == (619, 583)
    # only Yuncheng stations, first month of the campaign, no bad rows or broken files
    assert {r["unit_name"] for r in truth["mart_campaign_inspections"] if r["level"] == "city"} == {
        "运城市"
    }
    for entry in truth["landing"].values():
        assert entry["files_failed"] == 0 and entry["rows_quarantined_landing"] == 0
    assert truth["model_quarantine"]["unknown_station"] == 0


def test_committed_sample_equals_a_fresh_generation(tmp_path):
    fresh = tmp_path / "raw"
    generate_corpus(fresh, **SAMPLE_PARAMS)
    committed = {k: v for k, v in tree(REPO / "raw").items() if k != "README.md"}
    assert committed == tree(fresh)
    assert sum(p.stat().st_size for p in fresh.rglob("*") if p.is_file()) < 1_000_000


def _assert_files_say_the_truth(out: Path, truth: dict) -> None:
    from tests.generate.reference_loader import load, truth_station_rows

    got = load(out)
    for rt in ("inspections", "disputes", "traffic"):
        mine = got["landing"][rt]
        for key in (
            "files",
            "files_failed",
            "files_duplicate",
            "rows_read",
            "rows_quarantined_landing",
        ):
            assert mine.get(key, 0) == truth["landing"][rt][key], (rt, key)
        by_reason = {k[2:]: v for k, v in mine.items() if k.startswith("q_")}
        assert by_reason == truth["landing"][rt]["rows_quarantined_by_reason"], rt
        assert got["station_rows"][rt] == truth_station_rows(truth, rt), rt
    assert got["facts"] == truth["facts"]
    assert got["unknown_station"] == truth["model_quarantine"]["unknown_station"]
    assert got["key_conflict"] == truth["model_quarantine"].get("key_conflict", 0)


def test_the_files_say_what_the_truth_says(corpus):
    out, truth, _ = corpus
    _assert_files_say_the_truth(out, truth)


@pytest.mark.parametrize("seed", [3, 11])
def test_the_files_say_what_the_truth_says_other_seeds(tmp_path, seed):
    truth = generate_corpus(tmp_path / "raw", stations=5, days=6, seed=seed)
    _assert_files_say_the_truth(tmp_path / "raw", truth)


def test_the_yuncheng_files_say_what_the_truth_says(yuncheng):
    out, truth = yuncheng
    _assert_files_say_the_truth(out, truth)


def test_never_overwrites_exports_that_were_not_generated(tmp_path):
    real = tmp_path / "raw" / "inspections" / "real_export.csv"
    real.parent.mkdir(parents=True)
    real.write_text("检查编号,检查日期,派出所\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        generate_corpus(tmp_path / "raw", stations=1, days=1, seed=1)
    assert real.exists()
    # a generated corpus is replaced without leftovers
    generate_corpus(tmp_path / "gen", stations=3, days=3, seed=1)
    generate_corpus(tmp_path / "gen", stations=1, days=1, seed=2)
    assert json.loads((tmp_path / "gen" / "truth.json").read_text())["params"]["seed"] == 2
    files = {p for p in (tmp_path / "gen").rglob("*") if p.is_file()}
    fresh = tmp_path / "fresh"
    generate_corpus(fresh, stations=1, days=1, seed=2)
    assert tree(tmp_path / "gen") == tree(fresh) and len(files) == len(tree(fresh))
