{#- Disputes resolved: one row per record (station, dispute_id), its latest export (a dispute
    that became resolved is resolved here); station, source / type / risk level / status /
    mediation result codes, campaign; accepted or rejected. Source is required; the other
    codes are optional (empty → NULL) but a non-empty text that maps to no code rejects the
    record. Incremental per record number, see macro resolve_versions. -#}
{{ config(materialized='incremental', unique_key='_number_hash',
          incremental_strategy='delete+insert', on_schema_change='fail',
          pre_hook=["{{ add_number_hash('dispute_id') }}",
                    "{{ rowid_fetch_threshold() }}"],
          post_hook=["delete from {{ this }} where _tombstone",
                     "{{ rowid_fetch_threshold(reset=true) }}"]) }}

with {{ resolve_versions('stg_disputes', 'dispute_id') }},

resolved as not materialized (
    select
        b.*,
        src.code as source_code,
        src.label_zh as source_label,
        typ.code as dispute_type,
        typ.label_zh as dispute_type_label,
        rsk.code as risk_level_code,
        rsk.label_zh as risk_level_label,
        sts.code as status_code,
        sts.label_zh as status_label,
        med.code as mediation_result_code,
        med.label_zh as mediation_result_label
    from batch as b
    left join {{ ref('int_code_crosswalk') }} as src
        on src.dimension = 'dispute_source' and src.value_match = b.source_match
    left join {{ ref('int_code_crosswalk') }} as typ
        on typ.dimension = 'dispute_type' and typ.value_match = b.dispute_type_match
    left join {{ ref('int_code_crosswalk') }} as rsk
        on rsk.dimension = 'risk_level' and rsk.value_match = b.risk_level_match
    left join {{ ref('int_code_crosswalk') }} as sts
        on sts.dimension = 'dispute_status' and sts.value_match = b.status_match
    left join {{ ref('int_code_crosswalk') }} as med
        on med.dimension = 'mediation_result' and med.value_match = b.mediation_result_match
),

attributed as (
    {{ attribute_campaigns('disputes', 'resolved', 'station_id', 'reported_on') }}
),

conflicts as (
    {{ key_conflicts('resolved', 'dispute_id',
                     "case when party_key is not null then "
                     "reported_on || '|' || party_key || '|' || coalesce(dispute_type, '')"
                     " end",
                     'date, party and dispute type') }}
),

checked as (
    select
        a.*,
        {{ station_problem('station_text', 'station_match', 'station_id',
                           'station_candidate_count', 'station_candidates') }} as station_problem,
        {{ unmapped_problem([
            ('source', 'source_text', 'source_match', 'source_code', true),
            ('dispute_type', 'dispute_type_text', 'dispute_type_match', 'dispute_type', false),
            ('risk_level', 'risk_level_text', 'risk_level_match', 'risk_level_code', false),
            ('status', 'status_text', 'status_match', 'status_code', false),
            ('mediation_result', 'mediation_result_text', 'mediation_result_match',
             'mediation_result_code', false)
        ]) }} as code_problem,
        c.conflict_problem
    from attributed as a
    left join conflicts as c using (record_key)
)

select
    record_key as dispute_key,
    dispute_id,
    reported_on,
    station_id,
    campaign_id,
    source_code,
    source_label,
    dispute_type,
    dispute_type_label,
    risk_level_code,
    risk_level_label,
    status_code,
    status_label,
    resolved_on,
    mediation_channel,
    mediation_result_code,
    mediation_result_label,
    escalated_to_criminal,
    follow_up_visits,
    party_key,
    station_text,
    source_text,
    dispute_type_text,
    risk_level_text,
    status_text,
    mediation_result_text,
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
                'dispute_id': dispute_id, 'reported_on': reported_on,
                'station': station_text, 'source': source_text,
                'dispute_type': dispute_type_text, 'risk_level': risk_level_text,
                'status': status_text, 'resolved_on': resolved_on,
                'mediation_channel': mediation_channel,
                'mediation_result': mediation_result_text,
                'escalated_to_criminal': escalated_to_criminal,
                'follow_up_visits': follow_up_visits
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
    number as dispute_id,
    true as _tombstone,
    _number_hash
from gone
