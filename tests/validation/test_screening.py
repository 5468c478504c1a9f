"""The personal-data rules (pipelines/pii_rules.yml): what they find, mask and prefilter."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.pii import find_pii, mask_pii, mask_pii_array, prefilter
from pipelines.validation.screening import screen

pytestmark = pytest.mark.unit

FOUND = {
    "张三 11010519491231002X 住": ["id_number"],
    "电话13812345678": ["mobile"],
    "１３８１２３４５６７８": ["mobile"],  # full-width digits, typed by hand
    "+86 138-1234-5678": ["mobile"],
    "联系 0359-2345678 转": ["landline"],
    "（0574）87654321": ["landline"],
    "晋M12345 违停": ["plate"],
    "浙B·D12345": ["plate"],
    "鲁A1234学": ["plate"],
}
NOT_FOUND = [
    "110105194912310021",  # an ID-shaped number whose check character is wrong
    "1408180130640000",  # a 16-digit ticket number
    "YC_YH_SANLULI:1408220010640001",
    "a3f99b1234567890123456789012ab",  # a keyed hash
    "JC20220625001",
    "2022-07-15",
    "解放路与中山路交叉口",
    "人民路128号",
    "第3期",
]


def test_every_kind_is_found_and_masked():
    for text, rules in FOUND.items():
        assert find_pii(text) == rules, text
        masked = mask_pii(text)
        assert find_pii(masked) == [] and "[" in masked, (text, masked)
    for text in NOT_FOUND:
        assert find_pii(text) == [] and mask_pii(text) == text, text


PLANTED = st.sampled_from(sorted(FOUND))
NOISE = st.text(alphabet=st.sampled_from("ab0123456789 -_:（）()·所路号晋京"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(before=NOISE, planted=st.one_of(PLANTED, NOISE), after=NOISE)
def test_the_prefilter_keeps_every_value_the_rules_find(before, planted, after):
    text = before + planted + after
    with duckdb.connect() as conn:
        kept = conn.execute("SELECT regexp_matches(?, ?)", [text, prefilter()]).fetchall()[0][0]
    assert kept or not find_pii(text), text


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.one_of(
            st.none(), st.builds(lambda a, b, c: a + b + c, NOISE, st.one_of(PLANTED, NOISE), NOISE)
        ),
        max_size=8,
    )
)
def test_masking_an_arrow_array_masks_each_value_as_mask_pii_does(texts):
    """The Arrow path (the dbt UDF) sends only the prefilter's values through Python."""
    import pyarrow as pa

    chunked = pa.chunked_array([texts[:3], texts[3:]], type=pa.string())
    assert mask_pii_array(chunked).to_pylist() == [mask_pii(t) for t in texts]


def test_screen_reads_every_text_column_and_shows_hits_masked():
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (k VARCHAR, road VARCHAR, n BIGINT, f VARCHAR)")
        conn.execute(
            "INSERT INTO t VALUES ('a', '解放路', 1, 'traffic/x.csv'), "
            "('b', '人民路 13812345678', 2, 'traffic/张三_110105194912310021.csv'), "
            "('c', '中山路', 3, 'traffic/浙B12345.csv')"
        )
        summary, hits = screen(conn, "SELECT * FROM t")
    assert summary.to_pylist() == [
        {"values_with_personal_data": 2, "candidate_values": 3, "text_columns": 3}
    ]
    assert sorted((h["column"], h["rules"], h["value_masked"]) for h in hits) == [
        ("f", "plate", "traffic/[车牌].csv"),
        ("road", "mobile", "人民路 [手机号]"),
    ]
