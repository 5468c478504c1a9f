"""Raw station exports -> landing.* tables, ops.file_ledger and ops.quarantine.

Public interface (used by pipelines/defs/landing.py):
    ensure_schema(conn), land_reference_stations(conn, raw_dir) -> int,
    land_reference_reporting(conn, raw_dir) -> int,
    land_record_types(conn, raw_dir, record_types, run_id, threads) -> {type: LandingResult},
    land_record_type(conn, raw_dir, record_type, run_id) -> LandingResult (one type)
"""

from pipelines.landing.land import LandingResult, land_record_type, land_record_types
from pipelines.landing.reference import land_reference_reporting, land_reference_stations
from pipelines.landing.schema import ensure_schema

__all__ = [
    "LandingResult", "ensure_schema", "land_record_type", "land_record_types",
    "land_reference_reporting", "land_reference_stations",
]
