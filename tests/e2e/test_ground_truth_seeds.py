"""More seeds through the real job: every campaign figure equals the generator's truth (issue:
models, item 9). The seed-7 warehouse in test_ground_truth.py also covers reruns and aliases."""

from __future__ import annotations

import pytest

from pipelines.generate import generate_corpus
from tests.e2e.conftest import load_truth, make_warehouse
from tests.e2e.test_ground_truth import FACTS, assert_marts_equal_truth

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("seed", "stations", "days"), [(11, 4, 4), pytest.param(3, 6, 3, marks=pytest.mark.slow)]
)
def test_generated_corpus_publishes_exactly_its_truth(tmp_path, seed, stations, days):
    raw = tmp_path / "raw"
    generate_corpus(raw, stations=stations, days=days, seed=seed)
    truth = load_truth(raw)
    wh = make_warehouse(tmp_path, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    assert_marts_equal_truth(wh, truth)
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type], table
    ledger = wh.working(
        "SELECT count(*) FROM ops.file_ledger WHERE rows_read <> rows_landed + rows_quarantined"
    )
    assert ledger == [(0,)]
