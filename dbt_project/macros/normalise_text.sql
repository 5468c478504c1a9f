{#- The text-matching rule of docs/architecture.md: NFKC (full-width → half-width), every
    space (including U+3000) removed, lower case. Implemented by the Arrow UDF normalise_text
    that pipelines/pii.py registers on dbt's connection (exactly Python's rule, shared with
    the landing: pipelines.pii.normalise_text). Models using it are tables, never views. -#}
{% macro normalise_text(expr) -%}
    normalise_text(cast({{ expr }} as varchar))
{%- endmacro %}

{#- Keyed hash (HMAC-SHA256 with WAREHOUSE_PII_KEY) of a personal identifier; see pipelines/pii.py -#}
{% macro pii_key(expr) -%}
    pii_key(cast({{ expr }} as varchar))
{%- endmacro %}
