"""Tests of the ``warehouse`` command and the Dagster wiring: the CLI, progress lines and run
output, status and quarantine views, the definitions under different environments, the
schedule and the sensor."""
