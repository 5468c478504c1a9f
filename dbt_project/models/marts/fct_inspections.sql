{#- One row per inspection visit (latest export of each record: station + inspection_id),
    accepted rows only.
    A view over the accepted records of its incremental int_ model: always exactly the
    current resolution, and no third copy of every record in the working database. -#}
{{ config(materialized='view') }}

select
    i.inspection_key,
    i.inspection_id,
    i.station_id,
    i.inspected_on,
    i.campaign_id,
    i.venue_type_code,
    i.venue_type_label,
    i.venue_name,
    i.hazards_found,
    i.hazards_rectified,
    i.notices_issued,
    i.closure_ordered,
    i.rental_households,
    i.rental_rooms,
    i.source_file_masked as source_file,
    i.exported_at,
    i.source_sheet_masked as source_sheet,
    i.source_line,
    i.file_sha256,
    i.landed_versions,
    i._resolved_at
from {{ ref('int_inspections') }} as i
where not i.is_rejected
