{#- Station resolution: every spelling that names a unit, normalised with normalise_text
    (NFKC, no spaces, lower case) → station_id. Spellings are the station_id, the station
    name and the aliases of the seed station_aliases and of landing.reference_stations.
    A normalised spelling claimed by two stations is ambiguous and resolves to none. -#}
with spellings as (
    select
        station_id,
        station_id as spelling,
        'station_id' as spelling_source
    from {{ ref('int_stations') }}
    union all
    select
        station_id,
        station_name,
        'station_name'
    from {{ ref('int_stations') }}
    union all
    select
        cast(trim(station_id) as varchar),
        cast(alias as varchar),
        'seed_alias'
    from {{ ref('station_aliases') }}
    union all
    select
        cast(trim(station_id) as varchar),
        cast(alias as varchar),
        'reference_alias'
    from {{ source('landing', 'reference_stations') }}
),

normalised as (
    select
        {{ normalise_text('spelling') }} as station_match,
        station_id,
        spelling_source
    from spellings
    where nullif(trim(spelling), '') is not null and nullif(station_id, '') is not null
)

select
    station_match,
    case when count(distinct station_id) = 1 then min(station_id) end as station_id,
    cast(count(distinct station_id) as bigint) as candidate_count,
    string_agg(distinct station_id, ', ' order by station_id) as candidates,
    string_agg(distinct spelling_source, ', ' order by spelling_source) as spelling_sources
from normalised
where station_match <> ''
group by station_match
