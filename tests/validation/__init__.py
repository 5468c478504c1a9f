"""Tests of validation (pipelines/validation, expectations/): the suites and their thresholds,
the Dagster asset checks and their severities, the personal-data screen, and the HTML
report."""
