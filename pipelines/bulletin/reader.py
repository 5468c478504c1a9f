"""Open the published BI catalog for reading, one whole version at a time.

The bulletin reads only `published/catalog.duckdb` (views over immutable Parquet), never the
working warehouse. A publish replaces latest.json and then the catalog, each with one
os.replace; a connection keeps the catalog file it opened. So a reader that opens the catalog
and finds it on the version latest.json names holds one whole version for as long as the
connection is open. A missing catalog, or one that is a step behind latest.json (a publish or
rollback between its two replaces), is retried a few times, then refused with a clear error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sqltext import literal as lit

CATALOG_NAME = "catalog.duckdb"
LATEST_NAME = "latest.json"
DEFAULT_ATTEMPTS = 5
DEFAULT_DELAY = 0.5  # seconds; grows linearly with each attempt


class BulletinError(RuntimeError):
    """A bulletin cannot be written; the message is one line naming what to do instead."""


class CatalogUnavailable(BulletinError):
    """The published catalog could not be read as one whole version."""


class _Retry(Exception):
    pass


@dataclass
class PublishedCatalog:
    """An open, read-only connection to one published version (default database: the
    catalog, so `marts.fct_inspections` resolves as in any BI tool)."""

    conn: duckdb.DuckDBPyConnection
    path: Path
    info: dict[str, Any]  # meta.publish_info
    latest: dict[str, Any]  # latest.json as read when the catalog was opened

    @property
    def version(self) -> str:
        return self.info["version"]

    @property
    def published_dir(self) -> Path:
        return self.path.parent

    def has_view(self, schema: str, name: str) -> bool:
        return bool(
            self.conn.execute(
                "SELECT count(*) FROM duckdb_views() WHERE database_name = 'cat' "
                "AND schema_name = $s AND view_name = $n",
                {"s": schema, "n": name},
            ).fetchone()[0]
        )

    def columns(self, schema: str, name: str) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'cat' "
                "AND schema_name = $s AND table_name = $n ORDER BY column_index",
                {"s": schema, "n": name},
            ).fetchall()
        ]

    def close(self) -> None:
        self.conn.close()


def _read_latest(published_dir: Path) -> dict[str, Any]:
    path = published_dir / LATEST_NAME
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise _Retry(f"{path} does not exist (nothing published yet?)") from exc
    except json.JSONDecodeError as exc:
        raise _Retry(f"{path} is not valid JSON: {exc}") from exc


def _try_open(published_dir: Path, expected_version: str | None) -> PublishedCatalog:
    path = published_dir / CATALOG_NAME
    if not path.exists():
        raise _Retry(f"no published catalog at {path} (nothing published yet?)")
    # A fresh in-memory instance + ATTACH: duckdb.connect(path) could hand back a cached
    # instance of the file this process opened before the last swap.
    conn = duckdb.connect(":memory:")
    try:
        try:
            conn.execute(f"ATTACH {lit(str(path))} AS cat (READ_ONLY)")
            conn.execute("USE cat")
            cursor = conn.execute("SELECT * FROM meta.publish_info")
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
        except duckdb.Error as exc:
            raise _Retry(f"{path} cannot be read: {exc}") from exc
        if row is None:
            raise _Retry(f"{path} has no meta.publish_info row")
        info = dict(zip(names, row, strict=True))
        latest = _read_latest(published_dir)
        if latest.get("version") != info["version"]:
            raise _Retry(
                f"the catalog points at version {info['version']} but latest.json at "
                f"{latest.get('version')} (a publish or rollback is between its two "
                f"steps; the next publish or `warehouse rollback` completes it)"
            )
        if expected_version is not None and info["version"] != expected_version:
            raise BulletinError(
                f"version {expected_version} is no longer the published one (now {info['version']})"
            )
        return PublishedCatalog(conn=conn, path=path, info=info, latest=latest)
    except BaseException:
        conn.close()
        raise


@contextmanager
def open_catalog(
    published_dir: Path | str,
    *,
    expected_version: str | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
) -> Iterator[PublishedCatalog]:
    """The published catalog as one whole version, retried while missing or mid-swap."""
    published_dir = Path(published_dir)
    problem = ""
    for attempt in range(1, attempts + 1):
        try:
            catalog = _try_open(published_dir, expected_version)
        except _Retry as exc:
            problem = str(exc)
            if attempt < attempts:
                time.sleep(delay * attempt)
            continue
        try:
            yield catalog
        finally:
            catalog.close()
        return
    raise CatalogUnavailable(
        f"published catalog not readable after {attempts} attempt(s): {problem}"
    )
