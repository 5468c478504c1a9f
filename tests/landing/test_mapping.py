"""Header normalisation and the mapping file."""

from __future__ import annotations

import re

import pytest

from pipelines.landing.mapping import MAPPING_PATH, load_mapping, normalise_header, parse_mapping

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("发现隐患(处)", "发现隐患"),
        ("发现隐患（处）", "发现隐患"),
        ("罚款金额（元）", "罚款金额"),
        (" 检 查 编 号 ", "检查编号"),
        ("\u3000派出所\u3000", "派出所"),
        ("ｒｅｃｏｒｄ＿ｉｄ", "record_id"),
        ("Inspection_ID", "inspection_id"),
        ("(处)", "(处)"),  # a bracket alone is not a unit of anything
    ],
)
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


@pytest.mark.parametrize(
    ("record_type", "header", "field"),
    [
        ("inspections", "检查编号", "inspection_id"),
        ("inspections", "记录编号", "inspection_id"),
        ("inspections", "record_id", "inspection_id"),
        ("inspections", "发现隐患(处)", "hazards_found"),
        ("inspections", "已整改数", "hazards_rectified"),
        ("inspections", "所属派出所", "station"),
        ("inspections", "是否停业整改", "closure_ordered"),
        ("disputes", "受理时间", "reported_on"),
        ("disputes", "是否民转刑", "escalated_to_criminal"),
        ("disputes", "身份证号码", "party_id_number"),
        ("traffic", "罚款金额（元）", "fine_yuan"),
        ("traffic", "中队", "unit"),
        ("traffic", "号牌号码", "plate"),
    ],
)
def test_synonyms_from_the_export_dictionary(record_type, header, field):
    mapping = load_mapping()
    assert mapping.header_fields(record_type, [header]) == {field: 0}


def test_serial_number_column_is_not_an_id():
    assert load_mapping().header_fields("inspections", ["序号"]) == {}


def test_header_needs_the_key_and_enough_fields():
    mapping = load_mapping()
    fields = mapping.header_fields("inspections", ["检查日期", "派出所", "场所名称", "备注"])
    assert not mapping.is_header("inspections", fields)
    fields = mapping.header_fields("inspections", ["编号", "检查日期", "派出所"])
    assert mapping.is_header("inspections", fields)
    fields = mapping.header_fields("inspections", ["编号", "检查日期"])
    assert not mapping.is_header("inspections", fields)


def test_mapping_version_is_version_plus_file_hash():
    mapping = load_mapping()
    assert re.fullmatch(r"\d+\+[0-9a-f]{8}", mapping.version)
    text = MAPPING_PATH.read_bytes()
    assert parse_mapping(text + b"\n# edited\n").version != mapping.version


def test_ambiguous_synonym_is_rejected():
    text = MAPPING_PATH.read_text(encoding="utf-8").replace(
        "remarks: [备注, remarks]", "remarks: [备注, remarks, 场所名称]"
    )
    with pytest.raises(ValueError, match="two inspections fields"):
        parse_mapping(text.encode())


def test_unknown_field_is_rejected():
    text = MAPPING_PATH.read_text(encoding="utf-8").replace(
        "remarks: [备注, remarks]", "remarks: [备注, remarks]\n    colour: [颜色]"
    )
    with pytest.raises(ValueError, match="no field 'colour'"):
        parse_mapping(text.encode())
