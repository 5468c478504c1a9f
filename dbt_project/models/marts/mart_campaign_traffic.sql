{#- Campaign traffic enforcement per (campaign, level, unit, violation type), plus ALL.
    Incremental per campaign (delete+insert on campaign_id): a campaign is recomputed from
    all its fact rows when the fingerprint of its facts changed (macro campaign_fingerprints);
    a campaign left without fact rows is deleted by the post-hook. _built_at: the batch stamp
    of the build that wrote the campaign's rows (its reconciliation check reads it). BI reads
    is_rollup to sum safely (docs: campaign_mart_sums). -#}

{{ config(materialized='incremental', unique_key='campaign_id',
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="{{ delete_campaigns_without_facts('fct_traffic_violations') }}") }}

with {{ campaign_fingerprints('fct_traffic_violations') }},

facts as (
    select
        f.*,
        s.station_name,
        s.bureau_name,
        s.city,
        s.province
    from {{ ref('fct_traffic_violations') }} as f
    inner join {{ ref('dim_station') }} as s on s.station_id = f.unit_id
    where f.campaign_id in (select campaign_id from changed_campaigns)
),

levelled as (
    {{ unit_levels('facts') }}
),

broken_down as (
    select
        violation_code as breakdown_code,
        *
    from levelled
    union all
    select
        'ALL',
        *
    from levelled
),

aggregated as (
    select
        campaign_id,
        level,
        unit_name,
        breakdown_code as violation_code,
        cast(count(*) as bigint) as violations,
        cast(sum(fine_yuan) as bigint) as fines_yuan,
        cast(count(*) filter (where action_code = 'WARNING') as bigint) as warnings,
        cast(count(*) filter (where action_code = 'EDUCATION') as bigint) as educations,
        cast(count(*) filter (where action_code = 'FINE') as bigint) as fines
    from broken_down
    group by all
)

select
    a.campaign_id,
    a.level,
    a.unit_name,
    a.violation_code,
    a.violation_code in ('ALL', 'ALL_NINE_SMALL') as is_rollup,
    cast(case a.violation_code when 'ALL' then '全部' else v.label_zh end as varchar)
        as violation_label,
    a.violations,
    a.fines_yuan,
    a.warnings,
    a.educations,
    a.fines,
    fp.fact_rows as _fact_rows,
    fp.fact_fingerprint as _fact_fingerprint,
    {{ built_stamp('_built_at') }} as _built_at
from aggregated as a
left join {{ ref('dim_violation_type') }} as v on v.violation_code = a.violation_code
inner join fingerprints as fp on fp.campaign_id = a.campaign_id
