"""Unit tests of the configuration: README's table of environment variables → ``Settings``
(pipelines/settings.py) → the Dagster resources (pipelines/defs/resources.py), the dbt project
and its preparer (pipelines/defs/dbt.py), and the PII plugin dbt loads (pipelines/pii.py)."""
