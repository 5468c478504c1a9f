{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_campaign_inspections'}}}) }}
-- Reconciliation: at every level, the ALL rows of each campaign mart sum to exactly the fact
-- rows of the campaign (additive figures), and every level covers the same fact rows.
-- Returns the offending (mart, campaign, level, figure) combinations.
with fact_inspections as (
    select campaign_id, count(*) as visits, sum(hazards_found) as hazards_found,
        sum(hazards_rectified) as hazards_rectified, sum(notices_issued) as notices_issued,
        sum(rental_households) as rental_households, sum(rental_rooms) as rental_rooms
    from {{ ref('fct_inspections') }} where campaign_id is not null group by 1
),
mart_inspections as (
    select campaign_id, level, sum(inspection_visits) as visits,
        sum(hazards_found) as hazards_found, sum(hazards_rectified) as hazards_rectified,
        sum(notices_issued) as notices_issued, sum(rental_households) as rental_households,
        sum(rental_rooms) as rental_rooms
    from {{ ref('mart_campaign_inspections') }} where venue_type_code = 'ALL' group by 1, 2
),
by_type as (
    select campaign_id, level, sum(inspection_visits) as visits
    from {{ ref('mart_campaign_inspections') }}
    where venue_type_code not in ('ALL', 'ALL_NINE_SMALL') group by 1, 2
),
fact_disputes as (
    select campaign_id, count(*) as found,
        count(*) filter (where status_code = 'RESOLVED') as resolved,
        count(*) filter (where mediation_result_code is not null) as mediations,
        count(*) filter (where mediation_result_code = 'SUCCESS') as successes,
        count(*) filter (where escalated_to_criminal) as escalations
    from {{ ref('fct_disputes') }} where campaign_id is not null group by 1
),
mart_disputes as (
    select campaign_id, level, sum(disputes_found) as found, sum(disputes_resolved) as resolved,
        sum(mediations) as mediations, sum(mediation_successes) as successes,
        sum(escalations) as escalations
    from {{ ref('mart_campaign_disputes') }} where source_code = 'ALL' group by 1, 2
),
fact_traffic as (
    select campaign_id, count(*) as violations, sum(fine_yuan) as fines
    from {{ ref('fct_traffic_violations') }} where campaign_id is not null group by 1
),
mart_traffic as (
    select campaign_id, level, sum(violations) as violations, sum(fines_yuan) as fines
    from {{ ref('mart_campaign_traffic') }} where violation_code = 'ALL' group by 1, 2
),
levels as (select unnest(['station', 'bureau', 'city', 'province']) as level)
select 'inspections' as mart, f.campaign_id, l.level
from fact_inspections f cross join levels l
left join mart_inspections m on m.campaign_id = f.campaign_id and m.level = l.level
left join by_type t on t.campaign_id = f.campaign_id and t.level = l.level
where m.visits is distinct from f.visits or t.visits is distinct from f.visits
    or m.hazards_found is distinct from f.hazards_found
    or m.hazards_rectified is distinct from f.hazards_rectified
    or m.notices_issued is distinct from f.notices_issued
    or m.rental_households is distinct from f.rental_households
    or m.rental_rooms is distinct from f.rental_rooms
union all
select 'disputes', f.campaign_id, l.level
from fact_disputes f cross join levels l
left join mart_disputes m on m.campaign_id = f.campaign_id and m.level = l.level
where m.found is distinct from f.found or m.resolved is distinct from f.resolved
    or m.mediations is distinct from f.mediations or m.successes is distinct from f.successes
    or m.escalations is distinct from f.escalations
union all
select 'traffic', f.campaign_id, l.level
from fact_traffic f cross join levels l
left join mart_traffic m on m.campaign_id = f.campaign_id and m.level = l.level
where m.violations is distinct from f.violations or m.fines is distinct from f.fines
union all
-- no campaign mart row without fact rows behind it
select 'inspections', m.campaign_id, m.level from mart_inspections m
where m.campaign_id not in (select campaign_id from fact_inspections)
union all
select 'disputes', m.campaign_id, m.level from mart_disputes m
where m.campaign_id not in (select campaign_id from fact_disputes)
union all
select 'traffic', m.campaign_id, m.level from mart_traffic m
where m.campaign_id not in (select campaign_id from fact_traffic)
