{#- Inspections resolved: one row per record (station, inspection_id), its latest export;
    station (int_station_lookup), venue type (int_code_crosswalk), campaign; accepted or
    rejected (unknown station, unmapped value, key conflict): rejected rows carry their
    reason and are absent from fct_inspections. Incremental per record number, see macro
    resolve_versions. -#}
{{ config(materialized='incremental', unique_key='_number_hash',
          incremental_strategy='delete+insert', on_schema_change='fail',
          pre_hook=["{{ add_number_hash('inspection_id') }}",
                    "{{ rowid_fetch_threshold() }}"],
          post_hook=["delete from {{ this }} where _tombstone",
                     "{{ rowid_fetch_threshold(reset=true) }}"]) }}

with {{ resolve_versions('stg_inspections', 'inspection_id') }},

resolved as not materialized (
    select
        b.*,
        vt.code as venue_type_code,
        vt.label_zh as venue_type_label
    from batch as b
    left join {{ ref('int_code_crosswalk') }} as vt
        on vt.dimension = 'venue_type' and vt.value_match = b.venue_type_match
),

attributed as (
    {{ attribute_campaigns('inspections', 'resolved', 'station_id', 'inspected_on') }}
),

conflicts as (
    {{ key_conflicts('resolved', 'inspection_id',
                     "case when nullif(venue_name_match, '') is not null then "
                     "inspected_on || '|' || venue_name_match || '|' || "
                     "coalesce(venue_type_code, '') || '|' || hazards_found end",
                     'date, venue, venue type and hazards found') }}
),

checked as (
    select
        a.*,
        {{ station_problem('station_text', 'station_match', 'station_id',
                           'station_candidate_count', 'station_candidates') }} as station_problem,
        {{ unmapped_problem([
            ('venue_type', 'venue_type_text', 'venue_type_match', 'venue_type_code', true)
        ]) }} as code_problem,
        c.conflict_problem
    from attributed as a
    left join conflicts as c using (record_key)
)

select
    record_key as inspection_key,
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
    (
        station_problem is not null or code_problem is not null
        or conflict_problem is not null
    ) as is_rejected,
    station_problem,
    code_problem,
    conflict_problem,
    case
        when
            station_problem is not null or code_problem is not null
            or conflict_problem is not null
            then to_json({
                'inspection_id': inspection_id, 'inspected_on': inspected_on,
                'station': station_text, 'venue_name': venue_name,
                'venue_type': venue_type_text, 'hazards_found': hazards_found,
                'hazards_rectified': hazards_rectified, 'notices_issued': notices_issued,
                'closure_ordered': closure_ordered, 'rental_households': rental_households,
                'rental_rooms': rental_rooms
            })
    end as raw_values,
    source_file,
    source_sheet,
    source_file_masked,
    source_sheet_masked,
    file_sha256,
    source_line,
    station_source,
    exported_at,
    first_seen_at,
    last_landed_at,
    landed_versions,
    _staged_at,
    (select reference_hash from {{ ref('int_reference_version') }}) as _reference_hash,
    {{ batch_stamp('_resolved_at') }} as _resolved_at,
    false as _tombstone,
    _number_hash
from checked
union all by name
select
    number as inspection_id,
    true as _tombstone,
    _number_hash
from gone
