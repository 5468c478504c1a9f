{#- Every known unit (station or traffic squadron): the stations seed, plus stations that
    only the operator registry (landing.reference_stations) knows. The seed wins for a
    station_id present in both. -#}
with registry as (
    select
        cast(trim(station_id) as varchar) as station_id,
        cast(station_name as varchar) as station_name,
        cast(bureau_name as varchar) as bureau_name,
        cast(city as varchar) as city,
        cast(province as varchar) as province,
        cast(unit_type as varchar) as unit_type,
        cast(model_station_level as varchar) as model_station_level,
        try_cast(model_station_year as integer) as model_station_year
    from {{ source('landing', 'reference_stations') }}
    where nullif(trim(station_id), '') is not null
    qualify row_number() over (
        partition by trim(station_id) order by _source_path, alias nulls first
    ) = 1
)

select
    station_id,
    station_name,
    bureau_name,
    city,
    province,
    coalesce(unit_type, 'station') as unit_type,
    nullif(model_station_level, '') as model_station_level,
    model_station_year,
    'seed' as registry_source
from {{ ref('stations') }}
union all
select
    station_id,
    station_name,
    bureau_name,
    city,
    province,
    coalesce(unit_type, 'station') as unit_type,
    nullif(model_station_level, '') as model_station_level,
    model_station_year,
    'reference_stations' as registry_source
from registry
where station_id not in (select station_id from {{ ref('stations') }})
