"""Dagster definitions, orchestration only: the assets (landing, dbt, quarantine, publish,
bulletins), the asset checks that run the great-expectations suites, the job, schedule and
sensor, and the resources built from the settings. The work itself lives in the libraries
beside this package (pipelines.landing, pipelines.validation, pipelines.publish, …), so it can
be called and tested without Dagster; pipelines/definitions.py gathers these into the one
``Definitions`` object."""
