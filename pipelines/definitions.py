"""The Dagster code location: one Definitions object, assembled from pipelines/defs/."""

import dagster as dg

from pipelines.defs.checks import validate_marts
from pipelines.defs.dbt import dbt_warehouse
from pipelines.defs.jobs import nightly_refresh
from pipelines.defs.landing import land_raw_exports
from pipelines.defs.publish import published_catalog
from pipelines.defs.quarantine import quarantine
from pipelines.defs.resources import build_resources
from pipelines.defs.schedules import nightly_schedule
from pipelines.defs.sensors import raw_files_sensor

defs = dg.Definitions(
    assets=[land_raw_exports, dbt_warehouse, quarantine, published_catalog],
    asset_checks=[validate_marts],
    jobs=[nightly_refresh],
    schedules=[nightly_schedule],
    sensors=[raw_files_sensor],
    resources=build_resources(),
)
