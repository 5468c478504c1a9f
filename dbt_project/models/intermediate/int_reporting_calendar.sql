{#- The reporting calendar: one row per station × record type × day that the station is
    expected to report (int_reporting_expectations), up to the newest day with records of
    that type (or the coverage_as_of var), with the hours after the day's start by which its
    export is due (the smallest of overlapping periods).
    noqa: LT02 below: sqlfluff (4.5) asks to indent inside the quoted '{{ record_type }}', and
    its fix puts the spaces into the string. -#}
with newest as (
    {%- for record_type, model, day in [('inspections', 'int_inspections', 'inspected_on'),
                                        ('disputes', 'int_disputes', 'reported_on'),
                                        ('traffic', 'int_traffic', 'occurred_on')] %}
    select
        cast('{{ record_type }}' as varchar) as record_type,  -- noqa: LT02
        {% if var('coverage_as_of') -%}
        cast('{{ var("coverage_as_of") }}' as date)
        {%- else -%}
        (
            select max({{ day }}) from {{ ref(model) }}
            where not is_rejected
        )
        {%- endif %} as as_of
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

periods as (
    select
        e.station_id,
        e.record_type,
        e.expected_from,
        least(coalesce(e.expected_to, n.as_of), n.as_of) as expected_to,
        e.deadline_hours
    from {{ ref('int_reporting_expectations') }} as e
    inner join newest as n using (record_type)
    where n.as_of is not null
)

select
    station_id,
    record_type,
    cast(day as date) as day,
    cast(min(deadline_hours) as integer) as deadline_hours
from (
    select
        *,
        unnest(generate_series(expected_from, expected_to, interval 1 day)) as day
    from periods
    where expected_to >= expected_from
) as period_days
group by all
