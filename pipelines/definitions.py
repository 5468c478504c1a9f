"""The Dagster code location: one Definitions object, assembled from pipelines/defs/."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.bulletin import published_bulletins
from pipelines.defs.checks import build_checks
from pipelines.defs.dbt import build_dbt_assets
from pipelines.defs.jobs import nightly_refresh
from pipelines.defs.landing import land_raw_exports
from pipelines.defs.publish import build_publish_asset
from pipelines.defs.quarantine import quarantine
from pipelines.defs.resources import build_resources
from pipelines.defs.schedules import nightly_schedule
from pipelines.defs.sensors import raw_files_sensor
from pipelines.settings import Settings, load_settings


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or load_settings()
    # Resources first: they export the environment dbt's profile reads, and the dbt assets
    # parse the project while they are built.
    resources = build_resources(settings)
    return dg.Definitions(
        assets=[
            land_raw_exports,
            build_dbt_assets(settings.dbt_project_dir, settings.dbt_target_dir),
            quarantine,
            build_publish_asset(settings.expectations_dir, settings.dbt_target_dir),
            published_bulletins,
        ],
        asset_checks=[build_checks(settings.expectations_dir, settings)],
        jobs=[nightly_refresh],
        schedules=[nightly_schedule],
        sensors=[raw_files_sensor],
        resources=resources,
    )


defs = build_defs()
