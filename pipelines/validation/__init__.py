"""great-expectations suites (expectations/) run on pandas/Arrow batches read from DuckDB.

``check_specs`` lists the named checks (no GE import: cheap at definition load);
``run_checks`` evaluates them; ``write_report`` writes the run's HTML report.
"""

from pipelines.validation.report import write_report
from pipelines.validation.runner import CheckOutcome, row_watermarks, run_checks
from pipelines.validation.suites import CheckSpec, check_specs, load_suites, load_thresholds

__all__ = [
    "CheckOutcome",
    "CheckSpec",
    "check_specs",
    "load_suites",
    "load_thresholds",
    "row_watermarks",
    "run_checks",
    "write_report",
]
