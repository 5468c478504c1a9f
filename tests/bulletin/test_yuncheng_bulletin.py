"""The Yuncheng calibration scenario (seed 001): the city bulletin of the first month of the
hundred-day action carries the report's figures in the report's order, and headless Chromium
renders it (screenshot kept in test-artifacts/bulletin/, gitignored) and prints it to PDF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pipelines.bulletin.chromium import dump_dom, find_chromium, screenshot
from pipelines.generate import generate_scenario
from tests.bulletin.page import numbers_in, parse
from tests.e2e.conftest import make_warehouse

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "bulletin"
WAREHOUSE = Path(sys.executable).with_name("warehouse")
CAMPAIGN = "SUMMER_100D_2022"
# Seed 001, as the report prints it (its text uses ASCII , and ;), in its order; the report's
# other figures between these (night patrols, drinking, anti-fraud outreach) are not data
# this warehouse holds.
SEED_PARTS = [
    "夏季治安打击整治“百日行动”开展一个月以来,全市公安派出所共检查“九小场所”4034家,发现隐患196处,"
    "督促整改189处,下发隐患通知书60份",
    "摸排矛盾纠纷线索366条,化解矛盾纠纷267条;通过接处警警情排查掌握矛盾纠纷619条,化解583条",
    "清查出租屋、公寓1542户7521间,宾馆酒店478家次,足疗按摩店215家次等,下达隐患整改通知书45份,"
    "整改治安隐患10处,依法停业整改娱乐场所7家、洗浴中心2家",
]
SEED_FIGURES = [4034, 196, 189, 60, 366, 267, 619, 583, 1542, 7521, 478, 215, 45, 10, 7, 2]


def _ascii_punctuation(text: str) -> str:
    return text.replace("，", ",").replace("；", ";")


@pytest.fixture(scope="module")
def yuncheng(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("yuncheng")
    raw = tmp / "raw"
    generate_scenario("yuncheng-2022", raw)
    wh = make_warehouse(tmp, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    return wh


@pytest.fixture(scope="module")
def first_month(yuncheng, tmp_path_factory):
    """`warehouse bulletin` for the city (the campaign's only city here) and the first month,
    with --pdf: (page, text file, pdf, stdout)."""
    out = tmp_path_factory.mktemp("bulletin")
    proc = subprocess.run(
        [
            str(WAREHOUSE),
            "bulletin",
            "--campaign",
            CAMPAIGN,
            "--period",
            "first-month",
            "--out",
            str(out),
            "--pdf",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **yuncheng.env()},
    )
    assert proc.returncode == 0, proc.stderr
    html = out / f"{CAMPAIGN}_运城市_20220625-20220724.html"
    return html, html.with_suffix(".txt"), html.with_suffix(".pdf"), proc.stdout


def test_the_city_headline_holds_the_reports_figures_in_the_reports_order(first_month):
    html, text_file, _pdf, stdout = first_month
    text = text_file.read_text(encoding="utf-8").strip()
    assert stdout.splitlines()[0] == text
    plain = _ascii_punctuation(text)
    at = 0
    for part in SEED_PARTS:
        found = plain.find(part, at)
        assert found >= at, (part, plain)
        at = found + len(part)
    # exactly these figures, in this order, before the traffic clause the report lacks
    assert numbers_in(text)[: len(SEED_FIGURES)] == SEED_FIGURES
    assert parse(html.read_text(encoding="utf-8")).headline == text


def test_the_run_wrote_the_city_and_bureau_bulletins(yuncheng):
    latest = json.loads((yuncheng.home / "published" / "latest.json").read_text())
    items = latest["bulletins"]["items"]
    assert {(i["level"], i["unit"]) for i in items} == {
        ("city", "运城市"),
        ("bureau", "运城市公安局盐湖分局"),
        ("bureau", "河津市公安局"),
        ("bureau", "新绛县公安局"),
        ("bureau", "永济市公安局"),
    }
    # the scenario's records all lie in the first month: whole period = first month
    city = next(i for i in items if i["level"] == "city")
    assert city["period"] == {"kind": "whole", "from": "2022-06-25", "to": "2022-07-24"}
    assert (
        numbers_in(Path(city["text"]).read_text(encoding="utf-8"))[: len(SEED_FIGURES)]
        == SEED_FIGURES
    )


def _require_browser_and_fonts() -> None:
    assert find_chromium(), (
        "headless Chromium is missing: `apt-get install chromium` (.ci/run installs it)"
    )
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout.strip()
    assert fonts, "no font with Chinese glyphs: `apt-get install fonts-noto-cjk` (.ci/run does)"


def test_headless_chromium_renders_the_bulletin(first_month):
    _require_browser_and_fonts()
    html, text_file, _pdf, _stdout = first_month
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = screenshot(html, ARTIFACTS / "yuncheng-city-first-month.png", 1100, 1600)
    with Image.open(shot) as image:
        gray = image.convert("L")
        assert gray.size == (1100, 1600)
        pixels = list(gray.get_flattened_data())
        ink = sum(1 for p in pixels if p < 160) / len(pixels)
        assert ink > 0.01, f"screenshot looks blank ({ink:.2%} dark pixels)"
        assert len(set(image.convert("RGB").get_flattened_data())) > 50
        # the headline paragraph (below the title) is drawn, not left white
        band = list(gray.crop((40, 180, 1060, 360)).get_flattened_data())
        assert sum(1 for p in band if p < 128) / len(band) > 0.02
    # the page as Chromium holds it after its script ran: the figures are there
    dom = dump_dom(html)
    page = parse(dom)
    assert page.headline == text_file.read_text(encoding="utf-8").strip()
    for part in SEED_PARTS:
        assert part in _ascii_punctuation(page.headline)
    assert "table-sub-units" in page.tables and len(page.tables["table-sub-units"].rows) == 4


def test_pdf_printed_by_chromium(first_month):
    _require_browser_and_fonts()
    _html, _text, pdf, stdout = first_month
    assert f"pdf: {pdf}" in stdout
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, ARTIFACTS / "yuncheng-city-first-month.pdf")
