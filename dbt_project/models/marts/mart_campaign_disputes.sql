{#- Campaign dispute figures per (campaign, level, unit, source), plus the rollup ALL.
    Incremental per campaign (delete+insert on campaign_id): a campaign is recomputed from
    all its fact rows when the fingerprint of its facts changed (macro campaign_fingerprints);
    a campaign left without fact rows is deleted by the post-hook. _built_at: the batch stamp
    of the build that wrote the campaign's rows (its reconciliation check reads it). BI reads
    is_rollup to sum safely (docs: campaign_mart_sums). -#}

{{ config(materialized='incremental', unique_key='campaign_id',
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="{{ delete_campaigns_without_facts('fct_disputes') }}") }}

with {{ campaign_fingerprints('fct_disputes') }},

facts as (
    select
        f.*,
        s.station_name,
        s.bureau_name,
        s.city,
        s.province
    from {{ ref('fct_disputes') }} as f
    inner join {{ ref('dim_station') }} as s on s.station_id = f.station_id
    where f.campaign_id in (select campaign_id from changed_campaigns)
),

levelled as (
    {{ unit_levels('facts') }}
),

broken_down as (
    select
        source_code as breakdown_code,
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
        breakdown_code as source_code,
        cast(count(*) as bigint) as disputes_found,
        cast(count(*) filter (where status_code = 'RESOLVED') as bigint) as disputes_resolved,
        cast(count(*) filter (where mediation_result_code is not null) as bigint) as mediations,
        cast(count(*) filter (where mediation_result_code = 'SUCCESS') as bigint)
            as mediation_successes,
        cast(count(*) filter (where escalated_to_criminal) as bigint) as escalations,
        cast(sum(follow_up_visits) as bigint) as follow_up_visits,
        cast(count(*) filter (where risk_level_code = 'HIGH') as bigint) as high_risk_disputes
    from broken_down
    group by all
)

select
    a.campaign_id,
    a.level,
    a.unit_name,
    a.source_code,
    a.source_code in ('ALL', 'ALL_NINE_SMALL') as is_rollup,
    cast(case a.source_code when 'ALL' then '全部' else l.label_zh end as varchar)
        as source_label,
    a.disputes_found,
    a.disputes_resolved,
    {{ rate('a.disputes_resolved', 'a.disputes_found') }} as resolution_rate,
    a.mediations,
    a.mediation_successes,
    {{ rate('a.mediation_successes', 'a.mediations') }} as mediation_success_rate,
    a.escalations,
    a.follow_up_visits,
    a.high_risk_disputes,
    fp.fact_rows as _fact_rows,
    fp.fact_fingerprint as _fact_fingerprint,
    {{ built_stamp('_built_at') }} as _built_at
from aggregated as a
left join {{ ref('code_labels') }} as l
    on l.dimension = 'dispute_source' and l.code = a.source_code
inner join fingerprints as fp on fp.campaign_id = a.campaign_id
