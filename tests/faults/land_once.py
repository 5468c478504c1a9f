"""Land a raw dir into a DuckDB file, as the landing asset does; run as a child process by the
crash tests (WAREHOUSE_FAULT_AT makes it kill itself after a chosen commit)."""

import sys
from pathlib import Path

import duckdb

from pipelines.landing import ensure_schema, land_record_types
from pipelines.landing.limits import Limits

db, raw, threads = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with duckdb.connect(str(db)) as conn:
    ensure_schema(conn)
    land_record_types(
        conn,
        raw,
        ("inspections", "disputes", "traffic"),
        "run",
        threads=threads,
        limits=Limits(settle_seconds=0),
    )
