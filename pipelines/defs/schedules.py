"""The nightly refresh at 02:00 Beijing time."""

import dagster as dg

from pipelines.defs.jobs import nightly_refresh

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
