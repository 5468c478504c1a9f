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
