{#- One row per dispute (latest export of each record: station + dispute_id), accepted rows.
    A view over the accepted records of its incremental int_ model: always exactly the
    current resolution, and no third copy of every record in the working database. -#}
{{ config(materialized='view') }}

select
    i.dispute_key,
    i.dispute_id,
    i.station_id,
    i.reported_on,
    i.campaign_id,
    i.source_code,
    i.source_label,
    i.dispute_type,
    i.dispute_type_label,
    i.risk_level_code,
    i.risk_level_label,
    i.status_code,
    i.status_label,
    i.resolved_on,
    i.mediation_channel,
    i.mediation_result_code,
    i.mediation_result_label,
    i.escalated_to_criminal,
    i.follow_up_visits,
    i.party_key,
    i.source_file_masked as source_file,
    i.exported_at,
    i.source_sheet_masked as source_sheet,
    i.source_line,
    i.file_sha256,
    i.landed_versions,
    i._resolved_at
from {{ ref('int_disputes') }} as i
where not i.is_rejected
