{#- One row per ticket or recorded warning (latest export of each record: unit + ticket_id),
    accepted rows.
    A view over the accepted records of its incremental int_ model: always exactly the
    current resolution, and no third copy of every record in the working database. -#}
{{ config(materialized='view') }}

select
    i.ticket_key,
    i.ticket_id,
    i.unit_id,
    i.occurred_at,
    i.occurred_on,
    i.campaign_id,
    i.road,
    i.violation_code,
    i.violation_label,
    i.vehicle_type,
    i.plate_key,
    i.party_key,
    i.action_code,
    i.action_label,
    i.fine_yuan,
    i.source_file_masked as source_file,
    i.exported_at,
    i.source_sheet_masked as source_sheet,
    i.source_line,
    i.file_sha256,
    i.landed_versions,
    i._resolved_at
from {{ ref('int_traffic') }} as i
where not i.is_rejected
