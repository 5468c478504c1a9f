{#- One row per landed row of a loaded or superseded file version (every export of every
    dispute: a dispute that became resolved appears once per export), typed; the party's name,
    ID number and phone are replaced by party_key (keyed hash), published free text masked.
    Incremental as stg_inspections. -#}
{{ config(unique_key='_file_version_id', pre_hook="{{ add_number_hash('dispute_id') }}") }}

{%- set mappings = [
    ('station_matches', 'normalise_text', 'station'),
    ('source_matches', 'normalise_text', 'source'),
    ('dispute_type_matches', 'normalise_text', 'dispute_type'),
    ('risk_level_matches', 'normalise_text', 'risk_level'),
    ('status_matches', 'normalise_text', 'status'),
    ('mediation_result_matches', 'normalise_text', 'mediation_result'),
    ('party_keys', 'pii_key', 'coalesce(party_id_number, party_phone, party_name)'),
    ('channels', 'mask_pii', 'mediation_channel'),
    ('files', 'mask_pii', '_source_path'),
    ('sheets', 'mask_pii', '_sheet'),
] %}

with {{ landed_rows('disputes') }},
{{ mapped_values(mappings, mapping_source('disputes')) }}
select
    cast(dispute_id as varchar) as dispute_id,
    cast(reported_on as date) as reported_on,
    cast(station as varchar) as station_text,
    {{ mapped('station_matches') }} as station_match,
    cast(source as varchar) as source_text,
    {{ mapped('source_matches') }} as source_match,
    cast(dispute_type as varchar) as dispute_type_text,
    {{ mapped('dispute_type_matches') }} as dispute_type_match,
    cast(risk_level as varchar) as risk_level_text,
    {{ mapped('risk_level_matches') }} as risk_level_match,
    cast(status as varchar) as status_text,
    {{ mapped('status_matches') }} as status_match,
    cast(resolved_on as date) as resolved_on,
    {{ mapped('channels') }} as mediation_channel,
    cast(mediation_result as varchar) as mediation_result_text,
    {{ mapped('mediation_result_matches') }} as mediation_result_match,
    cast(coalesce(escalated_to_criminal, false) as boolean) as escalated_to_criminal,
    cast(coalesce(follow_up_visits, 0) as bigint) as follow_up_visits,
    {{ mapped('party_keys') }} as party_key,
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
    {{ number_hash('cast(dispute_id as varchar)') }} as _number_hash
from landed
{{ join_mapped(mappings) }}
