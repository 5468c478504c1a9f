{#- Traffic tickets resolved: unit (station or squadron), violation code (the violation_code
    column wins over the violation text when present), action code, campaign. One row per
    ticket_id (its latest export), accepted or rejected. -#}
{{ config(materialized='incremental', unique_key='ticket_id',
          incremental_strategy='delete+insert', on_schema_change='fail') }}

with batch as not materialized (
    {{ resolution_batch('stg_traffic', 'ticket_id') }}
),
prepared as (
    select
        *,
        -- the violation_code column wins over the text when present
        case when coalesce(violation_code_match, '') <> '' then 'violation_code'
             else 'violation' end as violation_field,
        case when coalesce(violation_code_match, '') <> '' then violation_code_text
             else violation_text end as violation_raw,
        case when coalesce(violation_code_match, '') <> '' then violation_code_match
             else violation_match end as violation_raw_match
    from batch
),
resolved as not materialized (
    select
        b.*,
        st.station_id as unit_id,
        st.candidate_count as station_candidate_count,
        st.candidates as station_candidates,
        vio.code as violation_code, vio.label_zh as violation_label,
        act.code as action_code, act.label_zh as action_label
    from prepared b
    left join {{ ref('int_station_lookup') }} st on st.station_match = b.unit_match
    left join {{ ref('int_code_crosswalk') }} vio
        on vio.dimension = 'violation' and vio.value_match = b.violation_raw_match
    left join {{ ref('int_code_crosswalk') }} act
        on act.dimension = 'action' and act.value_match = b.action_match
),
attributed as (
    {{ attribute_campaigns('traffic', 'resolved', 'unit_id', 'occurred_on') }}
),
checked as (
    select
        *,
        {{ station_problem('unit_text', 'unit_match', 'unit_id',
                           'station_candidate_count', 'station_candidates') }} as station_problem,
        nullif(concat_ws('; ',
            case
                when violation_raw_match is null or violation_raw_match = '' then
                    'violation is empty'
                when violation_code is null then
                    'unmapped ' || violation_field || ' ''' || violation_raw || ''''
            end,
            {{ unmapped_problem([('action', 'action_text', 'action_match', 'action_code', false)]) }}
        ), '') as code_problem
    from attributed
)
select
    ticket_id,
    occurred_at,
    occurred_on,
    unit_id,
    campaign_id,
    road,
    violation_code,
    violation_label,
    vehicle_type,
    plate_key,
    party_key,
    action_code,
    action_label,
    fine_yuan,
    unit_text,
    violation_text,
    violation_code_text,
    (station_problem is not null or code_problem is not null) as is_rejected,
    station_problem,
    code_problem,
    case when station_problem is not null or code_problem is not null then to_json({
        'ticket_id': ticket_id, 'occurred_at': occurred_at, 'unit': unit_text, 'road': road,
        'violation': violation_text, 'violation_code': violation_code_text,
        'vehicle_type': vehicle_type, 'action': action_text, 'fine_yuan': fine_yuan
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
