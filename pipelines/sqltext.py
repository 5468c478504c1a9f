"""Quoting for the SQL text the stages build in Python (DuckDB dialect), in one place."""


def ident(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A string literal of str(value); NULL for None."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"
