{#- Campaigns (专项行动) from the campaigns seed. -#}
select
    campaign_id,
    campaign_name,
    starts_on,
    ends_on,
    lower(coalesce(nullif(trim(scope_level), ''), 'all')) as scope_level,
    nullif(trim(scope_value), '') as scope_value,
    record_types
from {{ ref('campaigns') }}
