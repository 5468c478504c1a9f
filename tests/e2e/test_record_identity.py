"""Record identity through the real job (issue: record identity): records of different
stations that share a number are all published; the same files give the same figures
whatever nights they arrive in, in whatever order, with one or two landing threads."""

from __future__ import annotations

import os
import random
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.generate import generate_corpus
from pipelines.generate.corpus import Options
from tests.e2e.conftest import Warehouse, make_warehouse
from tests.e2e.test_ground_truth import FACTS, MARTS, assert_marts_equal_truth

pytestmark = pytest.mark.e2e

# lineage: which file and line a record's winning row came from, and export times that fall
# back to the first-seen time, depend on arrival; every other published column must not
LINEAGE = {
    "source_file",
    "source_sheet",
    "source_line",
    "file_sha256",
    "exported_at",
    "landed_versions",
}


def merge_truths(*truths: dict) -> dict:
    """The truth of corpora of disjoint stations loaded together: counts add, and every
    mart row (campaign, level, unit, code) adds up (venues are per station, so they add)."""
    merged = {"facts": defaultdict(int), "model_quarantine": defaultdict(int)}
    for mart in MARTS:
        rows: dict[tuple, dict] = {}
        for truth in truths:
            for row in truth[mart]:
                key = tuple(v for v in row.values() if isinstance(v, str))
                if key in rows:
                    for k, v in row.items():
                        if not isinstance(v, str):
                            rows[key][k] += v
                else:
                    rows[key] = dict(row)
        merged[mart] = list(rows.values())
    for truth in truths:
        for part in ("facts", "model_quarantine"):
            for k, v in truth[part].items():
                merged[part][k] += v
    return merged


def copy_tree(src: Path, dst: Path, files: list[Path] | None = None) -> None:
    for path in files if files is not None else exports(src):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def exports(raw: Path) -> list[Path]:
    return sorted(
        p
        for p in raw.rglob("*")
        if p.is_file()
        and p.relative_to(raw).parts[0] in ("inspections", "disputes", "traffic", "reference")
    )


def test_two_corpora_whose_record_numbers_overlap_publish_the_sum_of_their_truths(tmp_path):
    # two corpora of other stations: numbering is station-local, so their record numbers
    # overlap (inspections: every station's day starts at 001; traffic: the same unit index)
    a = generate_corpus(
        tmp_path / "a", stations=4, days=4, seed=11, options=Options(conflicts=False)
    )
    b = generate_corpus(
        tmp_path / "b",
        stations=4,
        days=5,
        seed=11,
        first_station=4,
        options=Options(conflicts=False, broken_files=False, duplicates=False),
    )
    assert not set(a["params"]["station_ids"]) & set(b["params"]["station_ids"])
    raw = tmp_path / "raw"
    copy_tree(tmp_path / "a", raw)
    copy_tree(tmp_path / "b", raw)
    wh = make_warehouse(tmp_path, raw)
    result, summary, ok = wh.run()
    assert result.success and ok, summary

    truth = merge_truths(a, b)
    assert_marts_equal_truth(wh, truth)
    for record_type, table in FACTS:
        assert len(wh.published(table)) == truth["facts"][record_type], table
    held = dict(
        wh.working(
            "SELECT reason_code, count(*) FROM ops.quarantine WHERE stage = 'model' GROUP BY ALL"
        )
    )
    assert held == {"unknown_station": truth["model_quarantine"]["unknown_station"]}
    # the overlap is real: one number, several stations, each its own published record
    for table, station, number in (
        ("fct_inspections", "station_id", "inspection_id"),
        ("fct_traffic_violations", "unit_id", "ticket_id"),
    ):
        stations = defaultdict(set)
        for s, n in wh.published(table, [station, number]):
            stations[n].add(s)
        shared = [n for n, ss in stations.items() if len(ss) > 1]
        assert len(shared) >= 5, table


def published_content(wh: Warehouse) -> dict[str, list]:
    """Every published fact and mart row without its lineage columns."""
    import duckdb

    content = {}
    with duckdb.connect(str(wh.catalog), read_only=True) as conn:
        for _, table in FACTS:
            cols = [
                c
                for (c,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "'marts' AND table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if c not in LINEAGE
            ]
            content[table] = sorted(
                conn.execute(f"SELECT {', '.join(cols)} FROM marts.{table}").fetchall(), key=repr
            )
        for mart in MARTS:
            content[mart] = sorted(conn.execute(f"SELECT * FROM marts.{mart}").fetchall(), key=repr)
    return content


@pytest.fixture(scope="module")
def one_corpus(tmp_path_factory):
    """One corpus (corrections, duplicates, a key conflict, broken files) and what a single
    run publishes from it: the reference every split must equal."""
    tmp = tmp_path_factory.mktemp("identity")
    generate_corpus(tmp / "corpus", stations=3, days=4, seed=5)
    wh = make_warehouse(tmp / "reference", tmp / "corpus")
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    return tmp / "corpus", published_content(wh), wh


# Each example runs the job once per night: one example per thread count;
# WAREHOUSE_PROPERTY_EXAMPLES raises the number for a longer search.
EXAMPLES = int(os.environ.get("WAREHOUSE_PROPERTY_EXAMPLES", "1"))


# the two-thread split runs in `make test-slow`
@pytest.mark.parametrize("threads", [1, pytest.param(2, marks=pytest.mark.slow)])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_nights_in_any_order_publish_what_one_run_publishes(
    one_corpus, tmp_path_factory, threads, data
):
    corpus, reference, _ = one_corpus
    files = exports(corpus)
    nights = data.draw(st.integers(min_value=2, max_value=3), label="nights")
    seed = data.draw(st.integers(min_value=0, max_value=2**32 - 1), label="split")
    rng = random.Random(seed)
    groups = [[] for _ in range(nights)]
    for path in files:
        groups[rng.randrange(nights)].append(path)
    rng.shuffle(groups)
    tmp = tmp_path_factory.mktemp("nights")
    wh = make_warehouse(tmp, tmp / "raw", WAREHOUSE_LANDING_THREADS=str(threads))
    for group in groups:
        copy_tree(corpus, tmp / "raw", group)
        result, summary, ok = wh.run()
        assert result.success, summary
    got = published_content(wh)
    for table in reference:
        assert got[table] == reference[table], table


def test_a_run_whose_files_are_read_by_worker_processes_publishes_what_one_run_publishes(
    one_corpus, tmp_path
):
    """The real job with the rebuild's landing (pipelines/landing/prefetch.py: worker
    processes read the files, one thread lands them) forced on a small corpus."""
    corpus, reference, reference_wh = one_corpus
    wh = make_warehouse(
        tmp_path, corpus, WAREHOUSE_LANDING_WORKERS_MIN_BYTES="0", WAREHOUSE_LANDING_THREADS="2"
    )
    result, summary, ok = wh.run()
    assert result.success and ok, summary
    read_ahead = [
        event.materialization.metadata["files_read_ahead"].value
        for event in result.get_asset_materialization_events()
        if "files_read_ahead" in event.materialization.metadata
    ]
    assert read_ahead and min(read_ahead) > 0, read_ahead  # per record type (and in all)
    assert published_content(wh) == reference
    ledger = "SELECT path, status, rows_read, rows_landed, rows_quarantined FROM ops.file_ledger"
    assert sorted(wh.working(ledger)) == sorted(reference_wh.working(ledger))


LANDED_ROWS = """
    SELECT record_type, sum(rows_landed) FROM ops.file_ledger
    WHERE record_type IN ('inspections', 'disputes', 'traffic')
        AND status IN ('loaded', 'superseded') AND rows_landed > 0
    GROUP BY ALL"""


@pytest.mark.slow  # four dbt builds of batches (75 s): `make test-slow`, which CI runs too
def test_a_backlog_larger_than_one_staging_batch_is_staged_in_batches(one_corpus, tmp_path):
    """A night that brings more rows than WAREHOUSE_STAGING_BATCH_ROWS (a catch-up) is staged
    and resolved in batches of at most that many rows per record type, and publishes exactly
    what one run publishes."""
    corpus, reference, reference_wh = one_corpus
    files = exports(corpus)
    first = [p for i, p in enumerate(files) if i % 5 == 0 or "reference" in p.parts]
    wh = make_warehouse(tmp_path, tmp_path / "raw")
    copy_tree(corpus, tmp_path / "raw", first)
    result, summary, ok = wh.run()
    assert result.success, summary

    # the bound: a third of the largest backlog the second night brings
    before = dict(wh.working(LANDED_ROWS))
    backlog = {t: n - before.get(t, 0) for t, n in reference_wh.working(LANDED_ROWS)}
    bound = max(backlog.values()) // 3
    assert bound >= 10, backlog
    wh.extra_env["WAREHOUSE_STAGING_BATCH_ROWS"] = str(bound)
    copy_tree(corpus, tmp_path / "raw", [p for p in files if p not in first])
    result, summary, ok = wh.run()
    assert result.success, summary

    assert published_content(wh) == reference
    first_stamp = {}
    for model in ("stg_inspections", "stg_disputes", "stg_traffic"):
        batches = wh.working(
            f"SELECT _staged_at, count(*), count(DISTINCT _file_version_id) "
            f"FROM staging.{model} GROUP BY ALL ORDER BY 1"
        )
        first_stamp[model] = batches[0][0]
        # the first night's full build, then batches of the bound (a version is never split:
        # one larger than the bound is a batch of its own)
        for stamp, rows, versions in batches[1:]:
            assert rows <= bound or versions == 1, (model, stamp, rows, bound)
    biggest = f"stg_{max(backlog, key=backlog.get)}"
    ((night_batches,),) = wh.working(
        f"SELECT count(DISTINCT _staged_at) FROM staging.{biggest} WHERE _staged_at > ?",
        [first_stamp[biggest]],
    )
    assert night_batches >= 3, (biggest, night_batches, backlog, bound)
