"""Raw station exports -> landing.* tables, ops.file_ledger and ops.quarantine.

Public interface (used by pipelines/defs/landing.py):
    ensure_schema(conn), land_reference_stations(conn, raw_dir) -> int,
    land_reference_reporting(conn, raw_dir) -> int,
    land_record_types(conn, raw_dir, record_types, run_id, threads) -> {type: LandingResult},
    land_record_type(conn, raw_dir, record_type, run_id) -> LandingResult (one type)

The names are imported when first used: importing a light module of the package (the limits
the settings read, pipelines/landing/limits.py) does not load the readers, pandas and Arrow,
so `warehouse status` starts at once.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_MODULE_OF = {
    "LandingResult": "pipelines.landing.land",
    "land_record_type": "pipelines.landing.land",
    "land_record_types": "pipelines.landing.land",
    "land_reference_reporting": "pipelines.landing.reference",
    "land_reference_stations": "pipelines.landing.reference",
    "ensure_schema": "pipelines.landing.schema",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_MODULE_OF[name]), name)
    globals()[name] = value  # once
    return value
