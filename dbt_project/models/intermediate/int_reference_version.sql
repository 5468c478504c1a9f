{#- One row: a fingerprint of all reference data the record resolution depends on (stations,
    spellings, code crosswalks, campaigns). When it changes (an alias added to a seed, a
    campaign's dates corrected), the incremental int_ models re-resolve every record once;
    otherwise only new and currently rejected records are resolved.
    `t::varchar` is the whole row as text: alias t is used, which sqlfluff's AL05 misses. -#}
with parts as (
    select
        'stations' as part,
        md5(coalesce(string_agg(t::varchar, '|' order by t::varchar), ''))
            as part_hash
    from {{ ref('int_stations') }} as t  -- noqa: AL05
    union all
    select
        'station_lookup',
        md5(coalesce(string_agg(t::varchar, '|' order by t::varchar), ''))
    from {{ ref('int_station_lookup') }} as t  -- noqa: AL05
    union all
    select
        'code_crosswalk',
        md5(coalesce(string_agg(t::varchar, '|' order by t::varchar), ''))
    from {{ ref('int_code_crosswalk') }} as t  -- noqa: AL05
    union all
    select
        'campaigns',
        md5(coalesce(string_agg(t::varchar, '|' order by t::varchar), ''))
    from {{ ref('int_campaign_scope') }} as t  -- noqa: AL05
)

select
    md5(string_agg(part || '=' || part_hash, ';' order by part)) as reference_hash,
    {{ dbt.current_timestamp() }} as computed_at
from parts
