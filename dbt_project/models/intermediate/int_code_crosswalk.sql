{#- Code crosswalks: every raw spelling of the seed code_crosswalk, normalised with
    normalise_text, → canonical code with its Chinese label. Dimensions: venue_type,
    violation, action, dispute_source, dispute_type, dispute_status, risk_level,
    mediation_result. A normalised spelling mapped to two codes is ambiguous and maps to
    none (and fails the unique test on this model). -#}
with labels as (
    select
        dimension,
        code,
        label_zh
    from {{ ref('code_labels') }}
    union all
    select
        'venue_type',
        venue_type_code,
        label_zh
    from {{ ref('venue_types') }}
    union all
    select
        'violation',
        violation_code,
        label_zh
    from {{ ref('violation_types') }}
),

spellings as (
    select
        dimension,
        {{ normalise_text('raw_value') }} as value_match,
        trim(code) as code
    from {{ ref('code_crosswalk') }}
    where nullif(trim(raw_value), '') is not null
)

select
    s.dimension,
    s.value_match,
    case when count(distinct s.code) = 1 then min(s.code) end as code,
    case when count(distinct s.code) = 1 then min(l.label_zh) end as label_zh,
    cast(count(distinct s.code) as bigint) as candidate_count
from spellings as s
left join labels as l on l.dimension = s.dimension and l.code = s.code
group by s.dimension, s.value_match
