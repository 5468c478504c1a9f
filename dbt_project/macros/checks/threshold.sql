{#- A threshold of expectations/parameters.yml: a DuckDB parameter ($name) that the
    validation runner binds when it executes the compiled SQL, so an operator's override
    (WAREHOUSE_COMPLETENESS_WINDOW_DAYS, ...) needs no rebuild.
    In a file of its own: sqlfluff (../../.sqlfluff) cannot lex `$name` and lints the check
    models with a stub of this macro, which a macro in the same file as its callers would
    shadow. -#}
{% macro check_threshold(name) -%}
    ${{ name }}
{%- endmacro %}

{#- The stamp up to which the suite's rows were validated by the run behind the published
    snapshot (expectations/*.batches.yml `since` models), bound by the runner like a
    threshold. -#}
{% macro validated_through() -%}
    $validated_through
{%- endmacro %}
