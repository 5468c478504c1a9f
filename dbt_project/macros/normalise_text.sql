{#- The text-matching rule of docs/architecture.md: NFKC (full-width → half-width), every
    space (including U+3000) removed, lower case. Implemented by the Arrow UDF normalise_text
    that pipelines/pii.py registers on dbt's connection (exactly Python's rule, shared with
    the landing: pipelines.pii.normalise_text). Models using it are tables, never views. -#}
{% macro normalise_text(expr) -%}
    normalise_text(cast({{ expr }} as varchar))
{%- endmacro %}

{#- Keyed hash (HMAC-SHA256 with WAREHOUSE_PII_KEY) of a personal identifier; see pipelines/pii.py.
    Free text that is published goes through the UDF mask_pii (ID numbers, phone numbers and
    plates typed into it masked; rules in pipelines/pii_rules.yml), as a mapping of
    mapped_values below. -#}
{% macro pii_key(expr) -%}
    pii_key(cast({{ expr }} as varchar))
{%- endmacro %}

{#- A Python UDF costs about 0.1 µs of call overhead plus its work per row; the staging models
    apply them to millions of rows holding a few thousand distinct texts. So each UDF runs
    once per distinct value, in a CTE over `relation`, and the model joins the result back.
    A model lists its mappings once, as (CTE name, function, expression over landed columns):
        {%- set mappings = [('plate_keys', 'pii_key', 'plate')] %}
        with ..., {{ mapped_values(mappings, mapping_source('traffic')) }}
        select ..., {{ mapped('plate_keys') }} as plate_key
        from landed {{ join_mapped(mappings) }}
    NULL maps to NULL, as the UDFs do. The CTEs' own columns (value, mapped) are always
    qualified, so the model's columns need no prefix. -#}
{% macro mapped_values(mappings, relation='landed') -%}
{%- for name, function, expr in mappings %}
{{ name }} as (
    select value, {{ function }}(value) as mapped
    from (select distinct cast({{ expr }} as varchar) as value from {{ relation }})
    where value is not null
){{ "," if not loop.last }}
{%- endfor %}
{%- endmacro %}

{#- The relation mapped_values reads: on a full build the landing table itself (its values
    are a superset of the staged rows', and `landed` keeps a single reader, so DuckDB does not
    materialise it: bench/RESULTS.md, city entry of a725f4c); on an incremental build the
    few `landed` rows of the changed file versions, not the whole history. -#}
{% macro mapping_source(record_type) -%}
    {{ 'landed' if is_incremental() else source('landing', record_type) }}
{%- endmacro %}

{% macro mapped(name) -%}
    {{ name }}.mapped
{%- endmacro %}

{% macro join_mapped(mappings) -%}
{%- for name, function, expr in mappings %}
left join {{ name }} on {{ name }}.value = cast({{ expr }} as varchar)
{%- endfor %}
{%- endmacro %}
