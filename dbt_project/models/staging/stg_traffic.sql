{#- One row per ticket_id: the latest landed export, typed; the plate becomes plate_key and
    the party (ID number, else name) party_key, both keyed hashes. Incremental as
    stg_inspections. -#}
{{ config(unique_key='ticket_id') }}

{%- set mappings = [
    ('unit_matches', 'normalise_text', 'unit'),
    ('violation_matches', 'normalise_text', 'violation'),
    ('violation_code_matches', 'normalise_text', 'violation_code'),
    ('action_matches', 'normalise_text', 'action'),
    ('plate_keys', 'pii_key', 'plate'),
    ('party_keys', 'pii_key', 'coalesce(party_id_number, party_name)'),
] %}

with {{ latest_landed('traffic', 'ticket_id') }},
{{ mapped_values(mappings, mapping_source('traffic')) }}
select
    cast(record_key as varchar) as ticket_id,
    cast(occurred_at as timestamp) as occurred_at,
    cast(cast(occurred_at as timestamp) as date) as occurred_on,
    cast(unit as varchar) as unit_text,
    {{ mapped('unit_matches') }} as unit_match,
    cast(road as varchar) as road,
    cast(violation as varchar) as violation_text,
    {{ mapped('violation_matches') }} as violation_match,
    cast(violation_code as varchar) as violation_code_text,
    {{ mapped('violation_code_matches') }} as violation_code_match,
    cast(vehicle_type as varchar) as vehicle_type,
    {{ mapped('plate_keys') }} as plate_key,
    {{ mapped('party_keys') }} as party_key,
    cast(action as varchar) as action_text,
    {{ mapped('action_matches') }} as action_match,
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
{{ join_mapped(mappings) }}
