{#- Reporting coverage: one row per expected station × day × record type (the reporting
    calendar, int_reporting_calendar), with what arrived (int_station_days) and a status:
    MISSING (nothing), NO_RECORDS (an export arrived empty on purpose), PARTIAL (rows set aside
    at landing or held back by the models), LATE (first arrived after the deadline, on a day
    the warehouse was already receiving files), REPORTED. Additive: sum its counts freely. -#}
with live as (
    select min(first_seen_at) as since from {{ source('ops', 'file_ledger') }}
),

joined as (
    select
        c.*,
        d.files_received,
        d.empty_exports,
        d.records,
        d.rows_held_back,
        d.rows_landed,
        d.rows_quarantined,
        d.first_arrival_at,
        d.last_arrival_at,
        c.day + c.deadline_hours * interval 1 hour as due_at
    from {{ ref('int_reporting_calendar') }} as c
    left join {{ ref('int_station_days') }} as d using (station_id, record_type, day)
)

select
    j.station_id,
    s.station_name,
    s.bureau_name,
    s.city,
    s.province,
    j.day,
    j.record_type,
    cast(case
        when
            coalesce(j.records, 0) = 0 and coalesce(j.rows_quarantined, 0) = 0
            and coalesce(j.rows_held_back, 0) = 0 and coalesce(j.empty_exports, 0) > 0
            then 'NO_RECORDS'
        when
            coalesce(j.records, 0) = 0 and coalesce(j.rows_quarantined, 0) = 0
            and coalesce(j.rows_held_back, 0) = 0 then 'MISSING'
        when coalesce(j.rows_quarantined, 0) + coalesce(j.rows_held_back, 0) > 0 then 'PARTIAL'
        when j.first_arrival_at > j.due_at and (select since from live) <= j.due_at then 'LATE'
        else 'REPORTED'
    end as varchar) as status,
    cast(coalesce(j.files_received, 0) as bigint) as files_received,
    cast(coalesce(j.records, 0) as bigint) as records,
    cast(coalesce(j.rows_landed, 0) as bigint) as rows_landed,
    cast(coalesce(j.rows_quarantined, 0) as bigint) as rows_quarantined,
    cast(coalesce(j.rows_held_back, 0) as bigint) as rows_held_back,
    j.first_arrival_at,
    j.last_arrival_at,
    cast(j.due_at as timestamp) as due_at,
    coalesce(j.first_arrival_at > j.due_at and (select since from live) <= j.due_at, false)
        as is_late
from joined as j
inner join {{ ref('dim_station') }} as s using (station_id)
