{#- One row per landed row of a loaded or superseded file version (every export of every
    inspection), typed, PII dropped, published free text masked. Versions of one record are
    resolved in int_inspections. Incremental: see macro landed_rows. -#}
{{ config(unique_key='_file_version_id', pre_hook="{{ add_number_hash('inspection_id') }}") }}

{%- set mappings = [
    ('station_matches', 'normalise_text', 'station'),
    ('venue_type_matches', 'normalise_text', 'venue_type'),
    ('venue_name_matches', 'normalise_text', 'venue_name'),
    ('venue_names', 'mask_pii', 'venue_name'),
    ('files', 'mask_pii', '_source_path'),
    ('sheets', 'mask_pii', '_sheet'),
] %}

with {{ landed_rows('inspections') }},
{{ mapped_values(mappings, mapping_source('inspections')) }}
select
    cast(inspection_id as varchar) as inspection_id,
    cast(inspected_on as date) as inspected_on,
    cast(station as varchar) as station_text,
    {{ mapped('station_matches') }} as station_match,
    {{ mapped('venue_names') }} as venue_name,
    {{ mapped('venue_name_matches') }} as venue_name_match,
    cast(venue_type as varchar) as venue_type_text,
    {{ mapped('venue_type_matches') }} as venue_type_match,
    cast(coalesce(hazards_found, 0) as bigint) as hazards_found,
    cast(coalesce(hazards_rectified, 0) as bigint) as hazards_rectified,
    cast(coalesce(notices_issued, 0) as bigint) as notices_issued,
    cast(coalesce(closure_ordered, false) as boolean) as closure_ordered,
    cast(coalesce(rental_households, 0) as bigint) as rental_households,
    cast(coalesce(rental_rooms, 0) as bigint) as rental_rooms,
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
    {{ number_hash('cast(inspection_id as varchar)') }} as _number_hash
from landed
{{ join_mapped(mappings) }}
