{#- Reporting coverage rolled up per bureau, city and province, day and record type: how many
    stations were expected, reported, missing, empty, partial, late, and the rows. Stations
    are counted once per unit: do not add rows of different levels. -#}
with coverage as (
    select * from {{ ref('mart_reporting_coverage') }}
),

levelled as (
    {%- for level, column in [('bureau', 'bureau_name'), ('city', 'city'),
                              ('province', 'province')] %}
    select
        cast('{{ level }}' as varchar) as level,
        cast({{ column }} as varchar) as unit_name,
        *
    from coverage
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    level,
    unit_name,
    day,
    record_type,
    cast(count(*) as bigint) as stations_expected,
    cast(count(*) filter (where records > 0) as bigint) as stations_with_records,
    cast(count(*) filter (where status = 'MISSING') as bigint) as stations_missing,
    cast(count(*) filter (where status = 'NO_RECORDS') as bigint) as stations_no_records,
    cast(count(*) filter (where status = 'PARTIAL') as bigint) as stations_partial,
    cast(count(*) filter (where is_late) as bigint) as stations_late,
    cast(sum(records) as bigint) as records,
    cast(sum(rows_landed) as bigint) as rows_landed,
    cast(sum(rows_quarantined) as bigint) as rows_quarantined,
    cast(sum(rows_held_back) as bigint) as rows_held_back,
    {{ rate('count(*) filter (where status <> \'MISSING\')', 'count(*)') }} as coverage_rate
from levelled
group by all
