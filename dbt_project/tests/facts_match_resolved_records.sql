{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_inspections'}}}) }}
-- The incremental facts hold exactly the accepted records of the int_ models (no stale,
-- missing or rejected key): a cheap anti-join on the natural keys.
select 'inspections' as record_type, coalesce(f.inspection_id, i.inspection_id) as record_id
from {{ ref('fct_inspections') }} f
full join (select inspection_id from {{ ref('int_inspections') }} where not is_rejected) i
    using (inspection_id)
where f.inspection_id is null or i.inspection_id is null
union all
select 'disputes', coalesce(f.dispute_id, i.dispute_id)
from {{ ref('fct_disputes') }} f
full join (select dispute_id from {{ ref('int_disputes') }} where not is_rejected) i
    using (dispute_id)
where f.dispute_id is null or i.dispute_id is null
union all
select 'traffic', coalesce(f.ticket_id, i.ticket_id)
from {{ ref('fct_traffic_violations') }} f
full join (select ticket_id from {{ ref('int_traffic') }} where not is_rejected) i
    using (ticket_id)
where f.ticket_id is null or i.ticket_id is null
