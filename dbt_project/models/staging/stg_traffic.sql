{#- One row per landed row of a loaded or superseded file version (every export of every
    ticket), typed; the plate becomes plate_key and the party (ID number, else name)
    party_key, both keyed hashes; published free text masked. Incremental as stg_inspections. -#}
{{ config(unique_key='_file_version_id', pre_hook="{{ add_number_hash('ticket_id') }}") }}

{%- set mappings = [
    ('unit_matches', 'normalise_text', 'unit'),
    ('violation_matches', 'normalise_text', 'violation'),
    ('violation_code_matches', 'normalise_text', 'violation_code'),
    ('action_matches', 'normalise_text', 'action'),
    ('plate_keys', 'pii_key', 'plate'),
    ('party_keys', 'pii_key', 'coalesce(party_id_number, party_name)'),
    ('roads', 'mask_pii', 'road'),
    ('vehicle_types', 'mask_pii', 'vehicle_type'),
    ('files', 'mask_pii', '_source_path'),
    ('sheets', 'mask_pii', '_sheet'),
] %}

with {{ landed_rows('traffic') }},
{{ mapped_values(mappings, mapping_source('traffic')) }}
select
    cast(ticket_id as varchar) as ticket_id,
    cast(occurred_at as timestamp) as occurred_at,
    cast(cast(occurred_at as timestamp) as date) as occurred_on,
    cast(unit as varchar) as unit_text,
    {{ mapped('unit_matches') }} as unit_match,
    {{ mapped('roads') }} as road,
    cast(violation as varchar) as violation_text,
    {{ mapped('violation_matches') }} as violation_match,
    cast(violation_code as varchar) as violation_code_text,
    {{ mapped('violation_code_matches') }} as violation_code_match,
    {{ mapped('vehicle_types') }} as vehicle_type,
    {{ mapped('plate_keys') }} as plate_key,
    {{ mapped('party_keys') }} as party_key,
    cast(action as varchar) as action_text,
    {{ mapped('action_matches') }} as action_match,
    cast(coalesce(fine_yuan, 0) as bigint) as fine_yuan,
    cast(_source_path as varchar) as source_file,
    cast(_sheet as varchar) as source_sheet,
    {{ mapped('files') }} as source_file_masked,
    {{ mapped('sheets') }} as source_sheet_masked,
    cast(_file_sha256 as varchar) as file_sha256,
    cast(_line as integer) as source_line,
    cast(_station_source as varchar) as station_source,
    cast(_exported_at as timestamp) as exported_at,
    cast(_first_seen_at as timestamp) as first_seen_at,
    cast(_file_version_id as varchar) as _file_version_id,
    cast(_is_current as boolean) as _is_current,
    {{ batch_stamp('_staged_at') }} as _staged_at,
    {{ number_hash('cast(ticket_id as varchar)') }} as _number_hash
from landed
{{ join_mapped(mappings) }}
