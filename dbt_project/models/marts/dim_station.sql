{#- Stations and other units (traffic squadrons), from the stations seed and the operator
    registry landing.reference_stations. -#}
select
    station_id,
    station_name,
    bureau_name,
    city,
    province,
    unit_type,
    model_station_level,
    model_station_year,
    case model_station_level
        when 'provincial' then '省级"枫桥式公安派出所"'
        when 'city' then '市级"枫桥式公安派出所"'
    end as model_station_title,
    registry_source
from {{ ref('int_stations') }}
