"""Tests of the dbt project (dbt_project/) on its own: hand-written landing tables
(landing.py) built into a temporary DuckDB file, then ``dbt build`` and the models' rows
compared with what the rules say (record identity, latest export wins, incremental equals full
refresh)."""
