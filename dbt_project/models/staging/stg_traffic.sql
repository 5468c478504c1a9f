{#- One row per ticket_id: the latest landed export, typed; the plate becomes plate_key and
    the party (ID number, else name) party_key, both keyed hashes. Incremental as
    stg_inspections. -#}
{{ config(unique_key='ticket_id') }}

with {{ latest_landed('traffic', 'ticket_id') }}
select
    cast(record_key as varchar) as ticket_id,
    cast(occurred_at as timestamp) as occurred_at,
    cast(cast(occurred_at as timestamp) as date) as occurred_on,
    cast(unit as varchar) as unit_text,
    {{ normalise_text('unit') }} as unit_match,
    cast(road as varchar) as road,
    cast(violation as varchar) as violation_text,
    {{ normalise_text('violation') }} as violation_match,
    cast(violation_code as varchar) as violation_code_text,
    {{ normalise_text('violation_code') }} as violation_code_match,
    cast(vehicle_type as varchar) as vehicle_type,
    {{ pii_key('plate') }} as plate_key,
    {{ pii_key('coalesce(party_id_number, party_name)') }} as party_key,
    cast(action as varchar) as action_text,
    {{ normalise_text('action') }} as action_match,
    cast(coalesce(fine_yuan, 0) as bigint) as fine_yuan,
    cast(_source_path as varchar) as source_file,
    cast(_file_sha256 as varchar) as file_sha256,
    cast(_sheet as varchar) as source_sheet,
    cast(_line as integer) as source_line,
    cast(_station_source as varchar) as station_source,
    cast(_exported_at as timestamp) as exported_at,
    cast(_first_seen_at as timestamp) as first_seen_at,
    cast(last_landed_at as timestamp) as last_landed_at,
    cast(landed_versions as bigint) as landed_versions,
    {{ batch_stamp('_staged_at') }} as _staged_at
from latest
