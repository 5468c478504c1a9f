{#- Who is expected to report which record type, from and until when: the seed
    reporting_expectations and landing.reference_reporting, one row per station × record
    type × period (an empty station_id or record_type in the source means all). expected_to
    NULL: open-ended, the station is expected to keep reporting. -#}
with expectations as (
    select
        nullif(trim(cast(station_id as varchar)), '') as station_id,
        nullif(trim(cast(record_type as varchar)), '') as record_type,
        cast(expected_from as date) as expected_from,
        cast(expected_to as date) as expected_to,
        cast(deadline_hours as integer) as deadline_hours
    from {{ ref('reporting_expectations') }}
    union all
    select
        nullif(trim(station_id), ''),
        nullif(trim(record_type), ''),
        expected_from,
        expected_to,
        deadline_hours
    from {{ source('landing', 'reference_reporting') }}
),

types as (
    select unnest(['inspections', 'disputes', 'traffic']) as record_type
)

select distinct
    s.station_id,
    cast(t.record_type as varchar) as record_type,
    e.expected_from,
    e.expected_to,
    cast(coalesce(e.deadline_hours, {{ var('reporting_deadline_hours') }}) as integer)
        as deadline_hours
from expectations as e
inner join {{ ref('int_stations') }} as s on e.station_id is null or e.station_id = s.station_id
inner join types as t on e.record_type is null or e.record_type = t.record_type
where e.expected_from is not null
