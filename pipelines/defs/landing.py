"""Landing assets: every raw export lands in DuckDB or in quarantine, with a ledger row."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class.
import time

import dagster as dg

from pipelines import runstate
from pipelines.defs.resources import WarehouseResource
from pipelines.landing import (
    ensure_schema,
    land_record_types,
    land_reference_reporting,
    land_reference_stations,
)
from pipelines.progress import LANDING_PROGRESS_EVERY_S
from pipelines.runlog import progress_message
from pipelines.settings import RECORD_TYPES

REFERENCE_KEY = dg.AssetKey(["landing", "reference_stations"])
REPORTING_KEY = dg.AssetKey(["landing", "reference_reporting"])
LEDGER_KEY = dg.AssetKey(["ops", "file_ledger"])
# the landing's rejects in ops.quarantine (the models' are the quarantine asset's)
LANDING_QUARANTINE_KEY = dg.AssetKey(["ops", "landing_quarantine"])


def landing_key(record_type: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", record_type])


class LandingProgress:
    """The `progress(done, total)` callback landing calls after each file: logs "files done /
    files to do" at the start, then at most every LANDING_PROGRESS_EVERY_S seconds, and at the
    end (landing threads call it concurrently; one log line at a time is enough)."""

    def __init__(self, log, every_s: float = LANDING_PROGRESS_EVERY_S, clock=time.monotonic):
        self.log, self.every_s, self.clock = log, every_s, clock
        self.last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.last is not None and done < total and now - self.last < self.every_s:
            return
        self.last = now
        self.log.info(progress_message("landing", done, total, "files"))


@dg.multi_asset(
    name="land_raw_exports",
    specs=[
        *[
            dg.AssetSpec(
                landing_key(rt),
                group_name="landing",
                description=f"Typed {rt} rows from raw/{rt}/ with lineage (PII still present).",
                kinds={"python", "duckdb"},
            )
            for rt in RECORD_TYPES
        ],
        dg.AssetSpec(
            REFERENCE_KEY,
            group_name="landing",
            description="Operator station registry from raw/reference/stations*.csv.",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            REPORTING_KEY,
            group_name="landing",
            description="Who is expected to report what, from when: raw/reference/reporting*.csv.",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            LEDGER_KEY,
            group_name="ops",
            description="One row per raw file version: status, counts, encoding, lineage.",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            LANDING_QUARANTINE_KEY,
            group_name="ops",
            description="Rows the landing set aside (stage 'landing' of ops.quarantine).",
            kinds={"duckdb"},
        ),
    ],
)
def land_raw_exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Land new and changed files; a broken file fails alone and is reported, never raised."""
    totals: dict[str, int] = {}
    # what the drop zone looked like when landing began: the file sensor compares with it, so
    # a UI started later launches no refresh for files this run has already seen
    fingerprint, files = runstate.raw_dir_fingerprint(warehouse.raw_path)
    with warehouse.connect() as conn:
        ensure_schema(conn)
        stations = land_reference_stations(conn, warehouse.raw_path)
        yield dg.MaterializeResult(
            asset_key=REFERENCE_KEY, metadata={"rows": dg.MetadataValue.int(stations)}
        )
        expected = land_reference_reporting(conn, warehouse.raw_path)
        yield dg.MaterializeResult(
            asset_key=REPORTING_KEY, metadata={"rows": dg.MetadataValue.int(expected)}
        )
        results = land_record_types(
            conn,
            warehouse.raw_path,
            RECORD_TYPES,
            context.run.run_id,
            warehouse.landing_threads,
            limits=warehouse.landing_limits,
            progress=LandingProgress(context.log),
            workers_min_bytes=warehouse.landing_workers_min_bytes,
        )
        for record_type, result in results.items():
            for path, message in result.failures:
                context.log.warning(f"{record_type}: file failed: {path}: {message}")
            meta = result.as_metadata()
            for key, value in meta.items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
            if record_type in RECORD_TYPES:  # files outside the type folders: ledger only
                yield dg.MaterializeResult(asset_key=landing_key(record_type), metadata=meta)
    try:
        runstate.record_raw_fingerprint(warehouse.home_path, fingerprint, files, context.run.run_id)
    except OSError as exc:  # the sensor may then request one refresh too many: no harm
        context.log.warning(f"raw-dir fingerprint not recorded: {exc}")
    yield dg.MaterializeResult(asset_key=LEDGER_KEY, metadata=totals)
    yield dg.MaterializeResult(
        asset_key=LANDING_QUARANTINE_KEY,
        metadata={"rows_quarantined": totals.get("rows_quarantined", 0)},
    )
