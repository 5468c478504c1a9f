{#- Per station and month, what a station is told about its own data: files sent and failed,
    rows landed, set aside (by reason) and held back, the quarantine rate, expected, reported,
    missing and late station-days (over the three record types) and the coverage rate. -#}
{%- set reasons = ['missing_key', 'bad_date', 'implausible_date', 'bad_count', 'bad_boolean',
                   'rectified_exceeds_found', 'malformed_row', 'oversized_field',
                   'unmapped_value', 'key_conflict'] %}
with coverage as (
    select
        station_id,
        cast(date_trunc('month', day) as date) as month,
        count(*) as expected_station_days,
        count(*) filter (where status <> 'MISSING') as reported_station_days,
        count(*) filter (where status = 'MISSING') as missing_station_days,
        count(*) filter (where is_late) as late_station_days
    from {{ ref('mart_reporting_coverage') }}
    group by all
),

activity as (
    select
        station_id,
        cast(date_trunc('month', day) as date) as month,
        sum(rows_landed) as rows_landed,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_held_back) as rows_held_back
    from {{ ref('int_station_days') }}
    group by all
),

files as (
    select
        station_id,
        cast(date_trunc('month', coalesce(exported_at, first_seen_at)) as date)
            as month,
        count(*) filter (where status = 'loaded') as files,
        count(*) filter (where status = 'failed' and is_current) as failed_files
    from {{ ref('file_ledger') }}
    where station_id is not null
    group by all
),

reasons as (
    select
        station_id,
        cast(date_trunc('month', record_date) as date) as month,
    {%- for reason in reasons %}
    count(*) filter (where reason_code = '{{ reason }}')
        as {{ reason }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ ref('quarantine') }}
    where station_id is not null and record_date is not null
    group by all
),

months as (
    select
        station_id,
        month
    from coverage
    union
    select
        station_id,
        month
    from activity
    union
    select
        station_id,
        month
    from files
)

select
    m.station_id,
    s.station_name,
    s.bureau_name,
    s.city,
    m.month,
    cast(coalesce(f.files, 0) as bigint) as files,
    cast(coalesce(f.failed_files, 0) as bigint) as failed_files,
    cast(coalesce(a.rows_landed, 0) as bigint) as rows_landed,
    cast(coalesce(a.rows_quarantined, 0) as bigint) as rows_quarantined,
    cast(coalesce(a.rows_held_back, 0) as bigint) as rows_held_back,
    {{ rate('coalesce(a.rows_quarantined, 0) + coalesce(a.rows_held_back, 0)',
            'coalesce(a.rows_landed, 0) + coalesce(a.rows_quarantined, 0)') }}
        as quarantine_rate,
    {%- for reason in reasons %}
    cast(coalesce(r.{{ reason }}, 0) as bigint) as rows_{{ reason }},
    {%- endfor %}
    cast(coalesce(c.expected_station_days, 0) as bigint) as expected_station_days,
    cast(coalesce(c.reported_station_days, 0) as bigint) as reported_station_days,
    cast(coalesce(c.missing_station_days, 0) as bigint) as missing_station_days,
    cast(coalesce(c.late_station_days, 0) as bigint) as late_station_days,
    {{ rate('coalesce(c.reported_station_days, 0)', 'coalesce(c.expected_station_days, 0)') }}
        as coverage_rate
from months as m
inner join {{ ref('dim_station') }} as s using (station_id)
left join coverage as c using (station_id, month)
left join activity as a using (station_id, month)
left join files as f using (station_id, month)
left join reasons as r using (station_id, month)
