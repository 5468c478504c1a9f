{#- Generic data tests of the warehouse (used from the models' YAML). They guard model
    integrity (keys, relationships, code lists); metric quality (counts, rates, "of which"
    figures, reconciliation) is checked by the great-expectations suites (expectations/). -#}

{#- One row per grain: no two rows share the combination of columns. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- The column holds every one of `values` (a code dimension holds every canonical code).
    Returns the values missing. -#}
{% test contains_values(model, column_name, values) %}
select expected.value as missing_value
from (select unnest([
    {%- for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor -%}
]) as value) expected
where expected.value not in (
    select {{ column_name }} from {{ model }} where {{ column_name }} is not null)
{% endtest %}

{#- The unit is one of dim_station's at its level (`level_column`: station, bureau, city or
    province; the unit is the station, bureau, city or province name). -#}
{% test unit_of_level(model, column_name, level_column='level') %}
with units as (
    select distinct u.level, u.unit_name
    from {{ ref('dim_station') }},
        lateral (values ('station', station_name), ('bureau', bureau_name), ('city', city),
                        ('province', province)) as u(level, unit_name)
)
select m.{{ level_column }}, m.{{ column_name }}
from {{ model }} m
where m.{{ level_column }} is not null and m.{{ column_name }} is not null
    and not exists (select 1 from units u
                    where u.level = m.{{ level_column }} and u.unit_name = m.{{ column_name }})
{% endtest %}

{#- Unique among the rows of the model's latest build (the highest `stamp`, a batch_stamp):
    for the record keys of the incremental int_ models and their fact views, where a test of
    the whole table grew with history (the slowest nodes of a night). Sound because
      - the key is the record's scope and number, and the model's delete+insert is on the
        number: every row of a number in the batch is deleted before the batch is inserted,
        so two rows with one key share a number and were written by the same build;
      - a build whose test fails does not advance int_watermarks (a child of the model,
        skipped), so the next build re-resolves the same numbers under a new stamp and
        tests them again; catch-up batches are `dbt build`s, tested like any night;
      - a full build writes every row under one stamp: the test then reads the whole table.
    Reads one column's maximum and the row groups of the batch (DuckDB's zone maps skip the
    older ones). -#}
{% test unique_in_batch(model, column_name, stamp='_resolved_at') %}
select {{ column_name }}, count(*) as n
from {{ model }}
where {{ stamp }} = (select max({{ stamp }}) from {{ model }})
group by {{ column_name }}
having count(*) > 1
{% endtest %}
