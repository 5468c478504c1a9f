"""The test suite, one folder per stage or concern (see README.md's folder map). Marker ``unit``:
fast tests without a Dagster job, dbt or a ``warehouse`` process (``make test-fast``); ``e2e``:
the real job; ``slow``: long fault tests left out of ``make test``."""
