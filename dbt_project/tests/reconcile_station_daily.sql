{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_station_daily'}}}) }}
-- Reconciliation: mart_station_daily totals equal the fact sums (all records, in or out of
-- campaigns). Returns the figures that differ.
with mart as (
    select sum(inspection_visits) as inspection_visits, sum(hazards_found) as hazards_found,
        sum(hazards_rectified) as hazards_rectified, sum(notices_issued) as notices_issued,
        sum(disputes_found) as disputes_found, sum(disputes_resolved) as disputes_resolved,
        sum(traffic_violations) as traffic_violations, sum(fines_yuan) as fines_yuan
    from {{ ref('mart_station_daily') }}
),
facts as (
    select
        (select count(*) from {{ ref('fct_inspections') }}) as inspection_visits,
        (select coalesce(sum(hazards_found), 0) from {{ ref('fct_inspections') }}) as hazards_found,
        (select coalesce(sum(hazards_rectified), 0) from {{ ref('fct_inspections') }})
            as hazards_rectified,
        (select coalesce(sum(notices_issued), 0) from {{ ref('fct_inspections') }})
            as notices_issued,
        (select count(*) from {{ ref('fct_disputes') }}) as disputes_found,
        (select count(*) from {{ ref('fct_disputes') }} where status_code = 'RESOLVED')
            as disputes_resolved,
        (select count(*) from {{ ref('fct_traffic_violations') }}) as traffic_violations,
        (select coalesce(sum(fine_yuan), 0) from {{ ref('fct_traffic_violations') }})
            as fines_yuan
)
select *
from mart, facts
where coalesce(mart.inspection_visits, 0) <> facts.inspection_visits
    or coalesce(mart.hazards_found, 0) <> facts.hazards_found
    or coalesce(mart.hazards_rectified, 0) <> facts.hazards_rectified
    or coalesce(mart.notices_issued, 0) <> facts.notices_issued
    or coalesce(mart.disputes_found, 0) <> facts.disputes_found
    or coalesce(mart.disputes_resolved, 0) <> facts.disputes_resolved
    or coalesce(mart.traffic_violations, 0) <> facts.traffic_violations
    or coalesce(mart.fines_yuan, 0) <> facts.fines_yuan
