{#- Inspections resolved: station (int_station_lookup), venue type (int_code_crosswalk),
    campaign. One row per inspection_id (its latest export), accepted or rejected;
    rejected rows carry their reason and are absent from fct_inspections. -#}
{{ config(materialized='incremental', unique_key='inspection_id',
          incremental_strategy='delete+insert', on_schema_change='fail') }}

with batch as not materialized (
    {{ resolution_batch('stg_inspections', 'inspection_id') }}
),
resolved as not materialized (
    select
        b.*,
        st.station_id,
        st.candidate_count as station_candidate_count,
        st.candidates as station_candidates,
        vt.code as venue_type_code,
        vt.label_zh as venue_type_label
    from batch b
    left join {{ ref('int_station_lookup') }} st on st.station_match = b.station_match
    left join {{ ref('int_code_crosswalk') }} vt
        on vt.dimension = 'venue_type' and vt.value_match = b.venue_type_match
),
attributed as (
    {{ attribute_campaigns('inspections', 'resolved', 'station_id', 'inspected_on') }}
),
checked as (
    select
        *,
        {{ station_problem('station_text', 'station_match', 'station_id',
                           'station_candidate_count', 'station_candidates') }} as station_problem,
        {{ unmapped_problem([
            ('venue_type', 'venue_type_text', 'venue_type_match', 'venue_type_code', true)
        ]) }} as code_problem
    from attributed
)
select
    inspection_id,
    inspected_on,
    station_id,
    campaign_id,
    venue_type_code,
    venue_type_label,
    venue_name,
    hazards_found,
    hazards_rectified,
    notices_issued,
    closure_ordered,
    rental_households,
    rental_rooms,
    station_text,
    venue_type_text,
    (station_problem is not null or code_problem is not null) as is_rejected,
    station_problem,
    code_problem,
    case when station_problem is not null or code_problem is not null then to_json({
        'inspection_id': inspection_id, 'inspected_on': inspected_on, 'station': station_text,
        'venue_name': venue_name, 'venue_type': venue_type_text,
        'hazards_found': hazards_found, 'hazards_rectified': hazards_rectified,
        'notices_issued': notices_issued, 'closure_ordered': closure_ordered,
        'rental_households': rental_households, 'rental_rooms': rental_rooms
    }) end as raw_values,
    source_file,
    file_sha256,
    source_sheet,
    source_line,
    station_source,
    exported_at,
    first_seen_at,
    last_landed_at,
    landed_versions,
    _staged_at,
    (select reference_hash from {{ ref('int_reference_version') }}) as _reference_hash,
    {{ batch_stamp('_resolved_at') }} as _resolved_at
from checked
