{#- Campaigns with one row per record type they list (seed campaigns, record_types split on
    ';'). Scope: scope_level 'all', or 'city' / 'bureau' / 'province' / 'station' with the
    unit in scope_value. -#}
select
    campaign_id,
    campaign_name,
    starts_on,
    ends_on,
    lower(coalesce(nullif(trim(scope_level), ''), 'all')) as scope_level,
    nullif(trim(scope_value), '') as scope_value,
    trim(record_type) as record_type
from {{ ref('campaigns') }},
    unnest(string_split(record_types, ';')) as t (record_type)
where trim(record_type) <> ''
