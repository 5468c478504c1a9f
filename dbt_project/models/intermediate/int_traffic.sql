{#- Traffic tickets resolved: one row per record (unit, ticket_id), its latest export; unit
    (station or squadron), violation code (the violation_code column wins over the violation
    text when present), action code, campaign; accepted or rejected. Incremental per ticket
    number, see macro resolve_versions. -#}
{{ config(materialized='incremental', unique_key='_number_hash',
          incremental_strategy='delete+insert', on_schema_change='fail',
          pre_hook=["{{ add_number_hash('ticket_id') }}",
                    "{{ rowid_fetch_threshold() }}"],
          post_hook=["delete from {{ this }} where _tombstone",
                     "{{ rowid_fetch_threshold(reset=true) }}"]) }}

with {{ resolve_versions('stg_traffic', 'ticket_id', 'unit_match') }},

prepared as (
    select
        *,
        -- the violation_code column wins over the text when present
        case
            when coalesce(violation_code_match, '') <> '' then 'violation_code'
            else 'violation'
        end as violation_field,
        case
            when coalesce(violation_code_match, '') <> '' then violation_code_text
            else violation_text
        end as violation_raw,
        case
            when coalesce(violation_code_match, '') <> '' then violation_code_match
            else violation_match
        end as violation_raw_match
    from batch
),

resolved as not materialized (
    select
        b.*,
        vio.code as violation_code,
        vio.label_zh as violation_label,
        act.code as action_code,
        act.label_zh as action_label
    from prepared as b
    left join {{ ref('int_code_crosswalk') }} as vio
        on vio.dimension = 'violation' and vio.value_match = b.violation_raw_match
    left join {{ ref('int_code_crosswalk') }} as act
        on act.dimension = 'action' and act.value_match = b.action_match
),

attributed as (
    {{ attribute_campaigns('traffic', 'resolved', 'station_id', 'occurred_on') }}
),

conflicts as (
    {{ key_conflicts('resolved', 'ticket_id',
                     "case when coalesce(plate_key, party_key) is not null then "
                     "strftime(occurred_at, '%Y-%m-%d %H:%M:%S') || '|' || "
                     "coalesce(violation_code, '') || '|' || coalesce(plate_key, '') || "
                     "'|' || coalesce(party_key, '') end",
                     'time to the second, violation, plate and party') }}
),

checked as (
    select
        a.*,
        {{ station_problem('unit_text', 'unit_match', 'station_id',
                           'station_candidate_count', 'station_candidates') }} as station_problem,
        nullif(concat_ws(
            '; ',
            case
                when violation_raw_match is null or violation_raw_match = ''
                    then 'violation is empty'
                when violation_code is null then
                    'unmapped ' || violation_field || ' ''' || violation_raw || ''''
            end,
            {{ unmapped_problem([
                ('action', 'action_text', 'action_match', 'action_code', false)
            ]) }}
        ), '') as code_problem,
        c.conflict_problem
    from attributed as a
    left join conflicts as c using (record_key)
)

select
    record_key as ticket_key,
    ticket_id,
    occurred_at,
    occurred_on,
    station_id as unit_id,
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
    action_text,
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
                'ticket_id': ticket_id, 'occurred_at': occurred_at, 'unit': unit_text,
                'road': road, 'violation': violation_text,
                'violation_code': violation_code_text, 'vehicle_type': vehicle_type,
                'action': action_text, 'fine_yuan': fine_yuan
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
    number as ticket_id,
    true as _tombstone,
    _number_hash
from gone
