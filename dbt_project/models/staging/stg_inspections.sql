{#- One row per inspection_id: the latest landed export of the record, typed, PII dropped.
    Incremental: see macro latest_landed (only keys touched by new landing batches). -#}
{{ config(unique_key='inspection_id') }}

{%- set mappings = [
    ('station_matches', 'normalise_text', 'station'),
    ('venue_type_matches', 'normalise_text', 'venue_type'),
] %}

with {{ latest_landed('inspections', 'inspection_id') }},
{{ mapped_values(mappings, mapping_source('inspections')) }}
select
    cast(record_key as varchar) as inspection_id,
    cast(inspected_on as date) as inspected_on,
    cast(station as varchar) as station_text,
    {{ mapped('station_matches') }} as station_match,
    cast(venue_name as varchar) as venue_name,
    cast(venue_type as varchar) as venue_type_text,
    {{ mapped('venue_type_matches') }} as venue_type_match,
    cast(coalesce(hazards_found, 0) as bigint) as hazards_found,
    cast(coalesce(hazards_rectified, 0) as bigint) as hazards_rectified,
    cast(coalesce(notices_issued, 0) as bigint) as notices_issued,
    cast(coalesce(closure_ordered, false) as boolean) as closure_ordered,
    cast(coalesce(rental_households, 0) as bigint) as rental_households,
    cast(coalesce(rental_rooms, 0) as bigint) as rental_rooms,
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
