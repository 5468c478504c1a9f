{#- Every metric of the domain spec (../shared/spec/domain.md, beside the repo, not in it) per
    station (or traffic unit) and day, whether or not the records fall in a campaign. One row per
    (station_id, day) with at least one fact row. Incremental per month (macros/months.sql): a
    month is recomputed from its fact rows when their row counts or largest _resolved_at
    changed; a month left without fact rows loses its rows (on a night a tombstone row per
    recomputed month makes delete+insert remove the month's old rows; the post-hook deletes
    it). Rows written before the model was incremental have no _month: the first build
    recomputes every month and the post-hook deletes them. -#}
{{ config(materialized='incremental', unique_key='_month',
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="delete from {{ this }} where _tombstone or _month is null") }}

{%- set fingerprints = station_daily_fingerprints() %}
{%- set changed = changed_months(fingerprints) %}
{%- set built_at = month_stamp('_built_at') %}
-- noqa: disable=AM07
-- (the tombstone at the end is a union by name: sqlfluff counts it as a plain union's)

with months as (
    {{ months_relation(changed, fingerprints) }}
),

inspections as (
    select
        station_id,
        inspected_on as day,
        cast(count(distinct coalesce(venue_name, inspection_id)) as bigint) as venues_inspected,
        cast(count(*) as bigint) as inspection_visits,
        cast(sum(hazards_found) as bigint) as hazards_found,
        cast(sum(hazards_rectified) as bigint) as hazards_rectified,
        cast(sum(notices_issued) as bigint) as notices_issued,
        cast(count(distinct case
            when closure_ordered
                then coalesce(venue_name, inspection_id)
        end) as bigint) as closures_ordered,
        cast(sum(rental_households) as bigint) as rental_households,
        cast(sum(rental_rooms) as bigint) as rental_rooms
    from {{ ref('fct_inspections') }}
    where {{ in_months('inspected_on', changed) }}
    group by all
),

disputes as (
    select
        station_id,
        reported_on as day,
        cast(count(*) as bigint) as disputes_found,
        cast(count(*) filter (where status_code = 'RESOLVED') as bigint) as disputes_resolved,
        cast(count(*) filter (where mediation_result_code is not null) as bigint) as mediations,
        cast(count(*) filter (where mediation_result_code = 'SUCCESS') as bigint)
            as mediation_successes,
        cast(count(*) filter (where escalated_to_criminal) as bigint) as escalations,
        cast(sum(follow_up_visits) as bigint) as follow_up_visits,
        cast(count(*) filter (where source_code = 'CANVASS') as bigint) as disputes_canvass,
        cast(count(*) filter (where source_code = 'CALL') as bigint) as disputes_call,
        cast(count(*) filter (where source_code = 'GRID') as bigint) as disputes_grid,
        cast(count(*) filter (where source_code = 'WALK_IN') as bigint) as disputes_walk_in,
        cast(count(*) filter (where risk_level_code = 'LOW') as bigint) as disputes_low_risk,
        cast(count(*) filter (where risk_level_code = 'MEDIUM') as bigint)
            as disputes_medium_risk,
        cast(count(*) filter (where risk_level_code = 'HIGH') as bigint) as disputes_high_risk
    from {{ ref('fct_disputes') }}
    where {{ in_months('reported_on', changed) }}
    group by all
),

traffic as (
    select
        unit_id as station_id,
        occurred_on as day,
        cast(count(*) as bigint) as traffic_violations,
        cast(count(*) filter (where action_code = 'WARNING') as bigint) as traffic_warnings,
        cast(count(*) filter (where action_code = 'EDUCATION') as bigint) as traffic_educations,
        cast(count(*) filter (where action_code = 'FINE') as bigint) as traffic_fines,
        cast(sum(fine_yuan) as bigint) as fines_yuan
    from {{ ref('fct_traffic_violations') }}
    where {{ in_months('occurred_on', changed) }}
    group by all
),

grain as (
    select
        station_id,
        day
    from inspections
    union
    select
        station_id,
        day
    from disputes
    union
    select
        station_id,
        day
    from traffic
)

select
    g.station_id,
    g.day,
    s.station_name,
    s.bureau_name,
    s.city,
    s.province,
    coalesce(i.venues_inspected, 0) as venues_inspected,
    coalesce(i.inspection_visits, 0) as inspection_visits,
    coalesce(i.hazards_found, 0) as hazards_found,
    coalesce(i.hazards_rectified, 0) as hazards_rectified,
    {{ rate('coalesce(i.hazards_rectified, 0)', 'coalesce(i.hazards_found, 0)') }}
        as rectification_rate,
    coalesce(i.notices_issued, 0) as notices_issued,
    coalesce(i.closures_ordered, 0) as closures_ordered,
    coalesce(i.rental_households, 0) as rental_households,
    coalesce(i.rental_rooms, 0) as rental_rooms,
    coalesce(d.disputes_found, 0) as disputes_found,
    coalesce(d.disputes_resolved, 0) as disputes_resolved,
    {{ rate('coalesce(d.disputes_resolved, 0)', 'coalesce(d.disputes_found, 0)') }}
        as resolution_rate,
    coalesce(d.mediations, 0) as mediations,
    coalesce(d.mediation_successes, 0) as mediation_successes,
    {{ rate('coalesce(d.mediation_successes, 0)', 'coalesce(d.mediations, 0)') }}
        as mediation_success_rate,
    coalesce(d.escalations, 0) as escalations,
    coalesce(d.follow_up_visits, 0) as follow_up_visits,
    coalesce(d.disputes_canvass, 0) as disputes_canvass,
    coalesce(d.disputes_call, 0) as disputes_call,
    coalesce(d.disputes_grid, 0) as disputes_grid,
    coalesce(d.disputes_walk_in, 0) as disputes_walk_in,
    coalesce(d.disputes_low_risk, 0) as disputes_low_risk,
    coalesce(d.disputes_medium_risk, 0) as disputes_medium_risk,
    coalesce(d.disputes_high_risk, 0) as disputes_high_risk,
    coalesce(t.traffic_violations, 0) as traffic_violations,
    coalesce(t.traffic_warnings, 0) as traffic_warnings,
    coalesce(t.traffic_educations, 0) as traffic_educations,
    coalesce(t.traffic_fines, 0) as traffic_fines,
    coalesce(t.fines_yuan, 0) as fines_yuan,
    m._month,
    m._fingerprint,
    {{ built_at }} as _built_at,
    false as _tombstone
from grain as g
inner join months as m on m._month = {{ month_of('g.day') }}
inner join {{ ref('dim_station') }} as s on s.station_id = g.station_id
left join inspections as i on i.station_id = g.station_id and i.day is not distinct from g.day
left join disputes as d on d.station_id = g.station_id and d.day is not distinct from g.day
left join traffic as t on t.station_id = g.station_id and t.day is not distinct from g.day
{%- if is_incremental() %}
union all by name
select
    _month,
    _fingerprint,
    {{ built_at }} as _built_at,
    true as _tombstone
from months
{%- endif %}
