{#- Campaign inspection figures per (campaign, level, unit, venue type), plus the rollups
    ALL_NINE_SMALL (the nine small venues together) and ALL. Only rows with at least one fact
    row.
    Incremental per campaign (delete+insert on campaign_id): a campaign is recomputed from
    all its fact rows when the fingerprint of its facts changed (macro campaign_fingerprints);
    a campaign left without fact rows is deleted by the post-hook. _built_at: the batch stamp
    of the build that wrote the campaign's rows (its reconciliation check reads it). BI reads
    is_rollup to sum safely (docs: campaign_mart_sums). -#}

{{ config(materialized='incremental', unique_key='campaign_id',
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="{{ delete_campaigns_without_facts('fct_inspections') }}") }}

with {{ campaign_fingerprints('fct_inspections') }},

facts as (
    select
        f.*,
        s.station_name,
        s.bureau_name,
        s.city,
        s.province,
        v.is_nine_small,
        { 'station_id': f.station_id, 'venue': coalesce(f.venue_name, f.inspection_id) } as venue
    from {{ ref('fct_inspections') }} as f
    inner join {{ ref('dim_station') }} as s on s.station_id = f.station_id
    inner join {{ ref('dim_venue_type') }} as v on v.venue_type_code = f.venue_type_code
    where f.campaign_id in (select campaign_id from changed_campaigns)
),

levelled as (
    {{ unit_levels('facts') }}
),

broken_down as (
    select
        venue_type_code as breakdown_code,
        *
    from levelled
    union all
    select
        'ALL_NINE_SMALL',
        *
    from levelled
    where is_nine_small
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
        breakdown_code as venue_type_code,
        cast(count(distinct venue) as bigint) as venues_inspected,
        cast(count(*) as bigint) as inspection_visits,
        cast(sum(hazards_found) as bigint) as hazards_found,
        cast(sum(hazards_rectified) as bigint) as hazards_rectified,
        cast(sum(notices_issued) as bigint) as notices_issued,
        cast(count(distinct case when closure_ordered then venue end) as bigint)
            as closures_ordered,
        cast(sum(rental_households) as bigint) as rental_households,
        cast(sum(rental_rooms) as bigint) as rental_rooms,
        cast(count(distinct station_id) as bigint) as stations_reporting
    from broken_down
    group by all
)

select
    a.campaign_id,
    a.level,
    a.unit_name,
    a.venue_type_code,
    a.venue_type_code in ('ALL', 'ALL_NINE_SMALL') as is_rollup,
    cast(case a.venue_type_code
        when 'ALL_NINE_SMALL' then '九小场所'
        when 'ALL' then '全部'
        else v.label_zh
    end as varchar) as venue_type_label,
    a.venues_inspected,
    a.inspection_visits,
    a.hazards_found,
    a.hazards_rectified,
    {{ rate('a.hazards_rectified', 'a.hazards_found') }} as rectification_rate,
    a.notices_issued,
    a.closures_ordered,
    a.rental_households,
    a.rental_rooms,
    a.stations_reporting,
    fp.fact_rows as _fact_rows,
    fp.fact_fingerprint as _fact_fingerprint,
    {{ built_stamp('_built_at') }} as _built_at
from aggregated as a
left join {{ ref('dim_venue_type') }} as v on v.venue_type_code = a.venue_type_code
inner join fingerprints as fp on fp.campaign_id = a.campaign_id
