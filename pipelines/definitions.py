"""The Dagster code location: one Definitions object, assembled from pipelines/defs/.

Configuration flows one way: the environment is read once into ``Settings``
(pipelines/settings.py), the resources and the dbt project are built from it, and the assets,
checks and the sensor take the resources. Loading the definitions writes nothing to
``os.environ``; it prepares dbt's manifest when there is none or it is out of date.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.bulletin import published_bulletins
from pipelines.defs.checks import build_checks
from pipelines.defs.dbt import build_dbt_assets, warehouse_dbt_project
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
    dbt_project = warehouse_dbt_project(settings)
    return dg.Definitions(
        assets=[
            land_raw_exports,
            build_dbt_assets(dbt_project),
            quarantine,
            build_publish_asset(settings.expectations_dir, settings.dbt_target_dir),
            published_bulletins,
        ],
        asset_checks=[build_checks(settings.expectations_dir, settings)],
        jobs=[nightly_refresh],
        schedules=[nightly_schedule],
        sensors=[raw_files_sensor],
        resources=build_resources(settings, dbt_project),
    )


defs = build_defs()
