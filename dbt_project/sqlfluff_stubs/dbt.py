"""sqlfluff stub of dbt's `dbt` namespace (jinja templater, library_path in ../.sqlfluff).

Only what the models call; renders what dbt-duckdb renders. Never imported by dbt itself.
"""


def current_timestamp() -> str:
    return "now()"
