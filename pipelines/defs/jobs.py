"""Jobs. One in-process executor: DuckDB allows one writing process, so steps run in turn."""

import dagster as dg

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Land raw exports, build the warehouse with dbt, validate, then publish.",
)
