"""Incremental publish: unchanged months (and unchanged one-file tables) are hard-linked from
the current snapshot, changed and new months are written, removed months are dropped."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import filecheck, publish, release, rollback, snapshot
from pipelines.publish.snapshot import content_hash, describe
from tests.publish.helpers import (
    TABLES,
    catalog_differences,
    check_consistent,
    make_source,
    tree_digest,
)

pytestmark = pytest.mark.unit

FCT = "fct_events"


def run(source: Path, published: Path, run_id: str, **kwargs):
    with duckdb.connect(str(source), read_only=True) as conn:
        return publish(conn, TABLES, published, run_id=run_id, **kwargs)


def change(source: Path, *statements: str) -> None:
    with duckdb.connect(str(source)) as conn:
        for sql in statements:
            conn.execute(sql)


def inode(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def files_of(result, table: str) -> dict[str, Path]:
    """{relative path: file} of a table in a published snapshot, from its manifest."""
    manifest = json.loads(result.manifest_path.read_text())
    return {
        f["path"]: result.snapshot_dir / table / f["path"]
        for f in manifest["tables"][table]["files"]
    }


def month_dir(month: str) -> str:
    return f"month={month}/part_0.parquet"


def same_rows(file: Path, source: Path, where: str) -> bool:
    """The Parquet file holds exactly the source rows matching `where` (as multisets)."""
    with duckdb.connect(str(source), read_only=True) as conn:
        cols = ", ".join(f'"{n}"' for n, _ in describe(conn, f"marts.{FCT}"))
        src = f"SELECT {cols} FROM marts.{FCT} WHERE {where}"
        pq = f"SELECT * FROM read_parquet('{file}', hive_partitioning = false)"
        diff = conn.execute(f"({src} EXCEPT ALL {pq}) UNION ALL ({pq} EXCEPT ALL {src})")
        n_src = conn.execute(f"SELECT count(*) FROM ({src})").fetchone()[0]
        n_pq = conn.execute(f"SELECT count(*) FROM ({pq})").fetchone()[0]
        return diff.fetchall() == [] and n_src == n_pq > 0


def catalog_equals_source(catalog: Path, source: Path) -> bool:
    with duckdb.connect(str(source), read_only=True) as conn:
        conn.execute(f"ATTACH '{catalog}' AS cat (READ_ONLY)")
        return not any(catalog_differences(conn, table) for table in TABLES)


MONTH = "strftime(happened_on, '%Y-%m')"
NIGHT = (  # a few changed rows in March, February gone, a new month, a new day in July
    f"UPDATE marts.{FCT} SET fine_yuan = fine_yuan + 1 WHERE happened_on = DATE '2024-03-02'",
    f"DELETE FROM marts.{FCT} WHERE {MONTH} = '2024-02'",
    f"INSERT INTO marts.{FCT} SELECT * REPLACE (event_id + 100000 AS event_id, "
    f"DATE '2025-01-15' AS happened_on) FROM marts.{FCT} WHERE happened_on = DATE '2024-01-04'",
    f"INSERT INTO marts.{FCT} SELECT * REPLACE (event_id + 200000 AS event_id, "
    f"DATE '2024-07-19' AS happened_on) FROM marts.{FCT} WHERE happened_on = DATE '2024-07-18'",
)


@pytest.fixture
def two_nights(tmp_path):
    source = make_source(tmp_path / "warehouse.duckdb")
    published = tmp_path / "published"
    first = run(source, published, "run-1")
    first_files = {t: files_of(first, t) for t in TABLES}
    first_inodes = {t: {p: inode(f) for p, f in fs.items()} for t, fs in first_files.items()}
    change(source, *NIGHT)
    second = run(source, published, "run-2")
    return {
        "source": source,
        "published": published,
        "first": first,
        "second": second,
        "first_inodes": first_inodes,
        "tmp": tmp_path,
    }


def test_unchanged_months_are_linked_changed_ones_written(two_nights):
    first, second, source = two_nights["first"], two_nights["second"], two_nights["source"]
    assert second.changed and second.version > first.version
    before = two_nights["first_inodes"]
    after = files_of(second, FCT)
    months = {p.split("/")[0].removeprefix("month=") for p in after}
    assert "2024-02" not in months and month_dir("2024-02") in before[FCT]  # removed month
    assert "2025-01" in months and month_dir("2025-01") not in before[FCT]  # new month
    assert not (second.snapshot_dir / FCT / "month=2024-02").exists()
    for month in ("2024-01", "2024-04", "2024-05", "2024-06", "unknown"):  # untouched
        path = month_dir(month)
        assert inode(after[path]) == before[FCT][path], month
        assert after[path].stat().st_nlink == 2
    for month in ("2024-03", "2024-07"):  # changed: written anew
        path = month_dir(month)
        assert inode(after[path]) != before[FCT][path], month
        assert after[path].stat().st_nlink == 1
    # the written months hold exactly the source rows
    assert same_rows(after[month_dir("2024-03")], source, f"{MONTH} = '2024-03'")
    assert same_rows(after[month_dir("2024-07")], source, f"{MONTH} = '2024-07'")
    assert same_rows(after[month_dir("2025-01")], source, f"{MONTH} = '2025-01'")
    assert same_rows(after[month_dir("2024-01")], source, f"{MONTH} = '2024-01'")
    # unchanged one-file tables are linked too
    for table in ("dim_codes", "mart_summary"):
        assert (
            inode(second.snapshot_dir / table / "part_0.parquet") == before[table]["part_0.parquet"]
        )
    # the whole snapshot: every file listed with rows, bytes, sha256 (checked) and its hash
    assert check_consistent(two_nights["published"]) == second.version
    manifest = json.loads(second.manifest_path.read_text())
    for entry in manifest["tables"][FCT]["files"]:
        assert set(entry) == {
            *("path", "partition", "rows", "bytes", "sha256", "content_sha256"),
            *("inode", "mtime_ns", "stat_at_ns"),  # what filecheck.py compares next time
        }
        assert entry["path"] == month_dir(entry["partition"])
    assert catalog_equals_source(second.catalog_path, source)


def test_incremental_snapshot_equals_a_full_one(two_nights):
    """Same files, same per-file and per-table hashes as a publish from scratch."""
    reference = run(two_nights["source"], two_nights["tmp"] / "reference", "run-ref")
    ours = json.loads(two_nights["second"].manifest_path.read_text())["tables"]
    ref = json.loads(reference.manifest_path.read_text())["tables"]
    for table in TABLES:
        assert ours[table]["content_sha256"] == ref[table]["content_sha256"], table
        assert ours[table]["columns"] == ref[table]["columns"]
        assert [(f["path"], f["rows"], f["content_sha256"]) for f in ours[table]["files"]] == [
            (f["path"], f["rows"], f["content_sha256"]) for f in ref[table]["files"]
        ]


def test_identical_content_publishes_nothing(two_nights):
    again = run(two_nights["source"], two_nights["published"], "run-3")
    assert (again.changed, again.reason, again.version) == (
        False,
        "content unchanged",
        two_nights["second"].version,
    )


def test_pruning_the_first_snapshot_leaves_the_second_whole(two_nights):
    published, second = two_nights["published"], two_nights["second"]
    linked = second.snapshot_dir / FCT / month_dir("2024-01")
    assert linked.stat().st_nlink == 2
    change(
        two_nights["source"],
        f"UPDATE marts.{FCT} SET fine_yuan = 0 WHERE happened_on = DATE '2024-05-05'",
    )
    third = run(two_nights["source"], published, "run-3", keep=2)
    assert third.pruned == [two_nights["first"].version]
    assert not two_nights["first"].snapshot_dir.exists()
    assert linked.stat().st_nlink == 2  # now shared by the second and third snapshots only
    # the second snapshot is still whole (sha256 of every file) and readable through a rollback
    assert rollback(published, second.version) == second.version
    assert check_consistent(published) == second.version
    with duckdb.connect() as conn:
        conn.execute(f"ATTACH '{second.catalog_path}' AS cat (READ_ONLY)")
        n = conn.execute(f"SELECT count(*) FROM cat.marts.{FCT}").fetchone()[0]
        conn.execute(f"SELECT * FROM cat.marts.{FCT}").fetchall()
    assert n == second.row_counts[FCT]
    # and forward again
    assert rollback(published, third.version) == third.version
    assert catalog_equals_source(third.catalog_path, two_nights["source"])


def test_rollback_to_the_first_snapshot(two_nights, tmp_path):
    published = two_nights["published"]
    original = make_source(tmp_path / "original.duckdb")  # the content of the first night
    assert rollback(published) == two_nights["first"].version
    assert check_consistent(published) == two_nights["first"].version
    assert catalog_equals_source(published / "catalog.duckdb", original)
    assert not catalog_equals_source(published / "catalog.duckdb", two_nights["source"])
    # the rollback pins: the next night publishes nothing, BI stays on the first snapshot
    before = tree_digest(published)
    held = run(two_nights["source"], published, "run-3")
    assert (held.changed, held.reason, held.version) == (
        False,
        "pinned",
        two_nights["first"].version,
    )
    assert held.pin["version"] == two_nights["first"].version
    assert tree_digest(published) == before
    # after a release, a publish links from the rolled-back-to snapshot
    assert release(published)["version"] == two_nights["first"].version
    back = run(two_nights["source"], published, "run-4")
    assert back.changed
    assert catalog_equals_source(back.catalog_path, two_nights["source"])
    old = files_of(two_nights["first"], FCT)[month_dir("2024-01")]
    assert inode(back.snapshot_dir / FCT / month_dir("2024-01")) == inode(old)


def test_manifest_without_file_hashes_rewrites_everything(tmp_path):
    """A current snapshot written before per-file hashes: nothing is linked."""
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    first = run(source, published, "run-1")
    manifest = json.loads(first.manifest_path.read_text())
    for info in manifest["tables"].values():
        for entry in info["files"]:
            entry.pop("content_sha256")
            entry.pop("partition", None)
    first.manifest_path.write_text(json.dumps(manifest))
    before = {inode(p) for p in first.snapshot_dir.rglob("*.parquet")}
    change(source, *NIGHT[:1])
    second = run(source, published, "run-2")
    assert second.changed
    assert not before & {inode(p) for p in second.snapshot_dir.rglob("*.parquet")}
    check_consistent(published)
    assert catalog_equals_source(second.catalog_path, source)


def test_damaged_file_in_the_current_snapshot_is_written_anew(tmp_path):
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    first = run(source, published, "run-1")
    damaged = first.snapshot_dir / FCT / month_dir("2024-04")
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the sha256 can tell
    damaged.write_bytes(bytes(data))
    change(source, *NIGHT[:1])
    second = run(source, published, "run-2", keep=1)  # prunes the damaged first snapshot
    fresh = second.snapshot_dir / FCT / month_dir("2024-04")
    assert fresh.stat().st_nlink == 1
    assert same_rows(fresh, source, f"{MONTH} = '2024-04'")
    assert check_consistent(published) == second.version
    assert catalog_equals_source(second.catalog_path, source)


def age_files(result, seconds: int = 60) -> None:
    """Every Parquet file of a snapshot as last written `seconds` ago: the stat its manifest
    recorded no longer matches, so the next publish reads each file once."""
    for f in result.snapshot_dir.rglob("*.parquet"):
        st = f.stat()
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9))


def damage(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size
    file.write_bytes(bytes(data))


@pytest.fixture
def reads(monkeypatch):
    """The files whose bytes filecheck.py reads for their sha256, as '<table>/<file>'."""
    seen: list[str] = []
    real = filecheck.sha256_file

    def counting(path):
        parts = Path(path).parts
        seen.append("/".join(parts[parts.index("snapshots") + 2 :]))
        return real(path)

    monkeypatch.setattr(filecheck, "sha256_file", counting)
    return seen


@pytest.fixture
def trusted(tmp_path, reads):
    """A second snapshot whose files' stats were recorded long after their last write."""
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    age_files(run(source, published, "run-1"))
    change(source, NIGHT[0])  # March changes: written; every other file linked, read once
    second = run(source, published, "run-2")
    linked = {f"{t}/{p}" for t in TABLES for p in files_of(second, t)}
    assert sorted(reads) == sorted(linked - {f"{FCT}/{month_dir('2024-03')}"})
    reads.clear()
    return source, published, second


def test_linked_files_are_trusted_by_a_stat_recorded_after_their_last_write(trusted, reads):
    """A file written seconds before its stat was recorded is read at the next publish (a write
    in the same clock tick keeps the mtime), then trusted: not read again."""
    source, published, second = trusted
    change(source, NIGHT[3])  # July changes
    third = run(source, published, "run-3")
    assert reads == [f"{FCT}/{month_dir('2024-03')}"]  # written by run-2 seconds ago
    assert check_consistent(published) == third.version
    assert catalog_equals_source(third.catalog_path, source)


def test_a_file_changed_after_its_stat_was_recorded_is_written_anew(trusted, reads):
    source, published, second = trusted
    damaged = second.snapshot_dir / FCT / month_dir("2024-04")
    damage(damaged)  # a new mtime
    change(source, NIGHT[3])
    third = run(source, published, "run-3", keep=1)  # prunes the damaged snapshots
    assert f"{FCT}/{month_dir('2024-04')}" in reads
    fresh = third.snapshot_dir / FCT / month_dir("2024-04")
    assert fresh.stat().st_nlink == 1
    assert same_rows(fresh, source, f"{MONTH} = '2024-04'")
    assert check_consistent(published) == third.version
    assert catalog_equals_source(third.catalog_path, source)


def test_read_bytes_reads_every_linked_file(trusted, reads):
    """A change that puts the old mtime back passes the stat; read_bytes
    (WAREHOUSE_VALIDATION_FULL) reads every file to link and finds it."""
    source, published, second = trusted
    forged = second.snapshot_dir / FCT / month_dir("2024-04")
    st = forged.stat()
    damage(forged)
    os.utime(forged, ns=(st.st_atime_ns, st.st_mtime_ns))
    change(source, NIGHT[3])
    third = run(source, published, "run-3", keep=1, read_bytes=True)
    linked = {f"{t}/{p}" for t in TABLES for p in files_of(third, t)}
    assert set(reads) == linked - {f"{FCT}/{month_dir('2024-07')}"} | {
        f"{FCT}/{month_dir('2024-04')}"
    }
    fresh = third.snapshot_dir / FCT / month_dir("2024-04")
    assert fresh.stat().st_nlink == 1
    assert same_rows(fresh, source, f"{MONTH} = '2024-04'")
    assert catalog_equals_source(third.catalog_path, source)


def test_copy_when_hard_links_are_impossible(tmp_path, monkeypatch):
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    first = run(source, published, "run-1")

    def no_link(src, dst, *args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    change(source, *NIGHT[:1])
    second = run(source, published, "run-2")
    old, new = (
        first.snapshot_dir / FCT / month_dir("2024-01"),
        second.snapshot_dir / FCT / month_dir("2024-01"),
    )
    assert inode(old) != inode(new) and old.read_bytes() == new.read_bytes()
    assert check_consistent(published) == second.version


def test_wider_integer_cast_rewrites_the_table(tmp_path):
    """A value past int64 turns the HUGEINT column's Parquet type to DECIMAL(38,0): the old
    BIGINT files cannot be mixed with new ones, so the table is written whole."""
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    first = run(source, published, "run-1")
    before = {inode(f) for f in files_of(first, FCT).values()}
    change(
        source,
        f"UPDATE marts.{FCT} SET big = CAST('1180591620717411303425' AS HUGEINT) "
        f"WHERE happened_on = DATE '2024-03-02'",
    )
    second = run(source, published, "run-2")
    assert not before & {inode(f) for f in files_of(second, FCT).values()}
    manifest = json.loads(second.manifest_path.read_text())
    big = next(c for c in manifest["tables"][FCT]["columns"] if c["name"] == "big")
    assert big["parquet_type"] == "DECIMAL(38,0)"
    assert inode(second.snapshot_dir / "dim_codes" / "part_0.parquet") == inode(
        first.snapshot_dir / "dim_codes" / "part_0.parquet"
    )
    assert check_consistent(published) == second.version
    assert catalog_equals_source(second.catalog_path, source)


def test_other_hash_method_rewrites_everything(tmp_path, monkeypatch):
    """Row hashes are only stable within one DuckDB version: a snapshot hashed by another
    version (or method) shares no digest with this one, so nothing is linked."""
    source, published = make_source(tmp_path / "w.duckdb"), tmp_path / "published"
    monkeypatch.setattr(snapshot, "HASH_METHOD", "duckdb 0.0.0 hash()")
    first = run(source, published, "run-1")
    before = {inode(p) for p in first.snapshot_dir.rglob("*.parquet")}
    monkeypatch.undo()
    second = run(source, published, "run-2")  # same rows, other method
    assert second.changed
    assert not before & {inode(p) for p in second.snapshot_dir.rglob("*.parquet")}
    assert check_consistent(published) == second.version
    assert catalog_equals_source(second.catalog_path, source)


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE t SET s = 'b' WHERE k = 1",  # one value
        "UPDATE t SET s = NULL WHERE k = 1",  # value -> NULL
        "UPDATE t SET s = '' WHERE k = 3",  # NULL -> empty text
        "UPDATE t SET ts = ts + INTERVAL 1 MICROSECOND WHERE k = 2",
        "UPDATE t SET n = n + 1 WHERE k = 1",
        "UPDATE t SET s = CASE k WHEN 1 THEN 'c' WHEN 4 THEN 'a' ELSE s END",  # swap across rows
        "INSERT INTO t SELECT * FROM t WHERE k = 1",  # a duplicated row
        "DELETE FROM t WHERE k = 2",
    ],
)
def test_content_hash_sees_every_change(tmp_path, edit):
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "(1, 'a', 10, TIMESTAMP '2024-01-01 08:00:00'), "
        "(2, 'b', 20, TIMESTAMP '2024-01-02 08:00:00'), "
        "(3, NULL, 30, TIMESTAMP '2024-01-03 08:00:00'), "
        "(4, 'c', 40, TIMESTAMP '2024-01-04 08:00:00')) v(k, s, n, ts)"
    )
    columns = describe(conn, "t")
    before = content_hash(conn, "t", columns)
    reordered = content_hash(conn, "(SELECT * FROM t ORDER BY k DESC)", columns)
    assert reordered == before
    conn.execute(edit)
    assert content_hash(conn, "t", columns) != before


def test_files_are_in_order_by_all_order(tmp_path):
    """Ordering by a unique first column is ORDER BY ALL's order; a first column with
    duplicates falls back to ORDER BY ALL."""
    source = tmp_path / "w.duckdb"
    with duckdb.connect(str(source)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE marts.dim_unique AS SELECT (range * 7919) % 1000 AS k, "
            "range % 3 AS v FROM range(1000)"
        )
        conn.execute(
            "CREATE TABLE marts.dim_dupes AS SELECT range % 10 AS k, "
            "(range * 7919) % 1000 AS v FROM range(1000)"
        )
    with duckdb.connect(str(source), read_only=True) as conn:
        result = publish(
            conn, ["dim_unique", "dim_dupes"], tmp_path / "published", run_id="run-order"
        )
        for table in ("dim_unique", "dim_dupes"):
            file = result.snapshot_dir / table / "part_0.parquet"
            in_file = conn.execute(f"SELECT * FROM read_parquet('{file}')").fetchall()
            assert (
                in_file == conn.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            ), table


@pytest.mark.parametrize("column_type", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
def test_each_month_is_one_file_in_order_by_all_order(tmp_path, column_type):
    """A fact table is written month by month: one file per month (rows without a date in
    month=unknown), each holding exactly that month's rows in ORDER BY ALL order, whether the
    first column is unique in the month (ordered by it) or not (ORDER BY ALL)."""
    source = tmp_path / "w.duckdb"
    with duckdb.connect(str(source)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            # k repeats only in 2024-02; the dates cross month ends (the range filter's edges)
            f"CREATE TABLE marts.fct_t AS SELECT CASE WHEN day BETWEEN 31 AND 59 THEN range % 5 "
            f"ELSE (range * 7919) % 100000 END AS k, "
            f"CASE WHEN range % 97 = 0 THEN NULL "
            f"ELSE CAST(DATE '2024-01-01' + day AS {column_type}) END AS d, range % 3 AS v "
            f"FROM (SELECT range, CAST(range % 120 AS INTEGER) AS day FROM range(6000))"
        )
    with duckdb.connect(str(source), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        result = publish(conn, ["fct_t"], tmp_path / "published", run_id="run-months")
        files = sorted((result.snapshot_dir / "fct_t").rglob("*.parquet"))
        months = [f.parent.name for f in files]
        assert months == [
            "month=2024-01",
            "month=2024-02",
            "month=2024-03",
            "month=2024-04",
            "month=unknown",
        ]
        assert all(f.name == "part_0.parquet" for f in files)
        for f in files:
            month = f.parent.name.split("=")[1]
            where = "d IS NULL" if month == "unknown" else f"strftime(d, '%Y-%m') = '{month}'"
            in_file = conn.execute(
                f"SELECT * FROM read_parquet('{f}', hive_partitioning = false)"
            ).fetchall()
            expected = conn.execute(
                f"SELECT * FROM marts.fct_t WHERE {where} ORDER BY ALL"
            ).fetchall()
            assert in_file == expected, month
