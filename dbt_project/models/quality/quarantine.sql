{#- Every rejected row that is set aside now: the landing's rejects of the file versions that
    count (ops.quarantine, stage landing) and the records the models hold back
    (int_rejected_rows), with file, sheet, line, station, day, reason and message; raw values
    with personal fields replaced by their keyed hash and the rest masked (redact_values).
    File failures are in quality.file_ledger. -#}
with rejected as (
    select
        q.quarantine_id,
        q.stage,
        q.record_type,
        q.source_path,
        q.sheet,
        q.line_number,
        q.station_text,
        q.record_date,
        q.reason_code,
        q.message,
        cast(q.raw_values as varchar) as raw_values,
        q.quarantined_at
    from {{ source('ops', 'quarantine') }} as q
    inner join {{ source('ops', 'file_ledger') }} as v
        on v.path = q.source_path and v.sha256 = q.file_sha256 and v.status = 'loaded'
    where q.stage = 'landing' and q.reason_code <> 'file_failed'
    union all
    select
        'model:' || record_type || ':' || file_sha256 || ':' || source_path || ':'
        || coalesce(sheet, '') || ':' || line_number || ':' || reason_code,
        'model',
        record_type,
        source_path,
        sheet,
        line_number,
        station_text,
        record_date,
        reason_code,
        message,
        cast(raw_values as varchar),
        cast(null as timestamp)
    from {{ ref('int_rejected_rows') }}
),
{%- set mappings = [('paths', 'mask_pii', 'source_path'), ('sheets', 'mask_pii', 'sheet'),
                    ('messages', 'mask_pii', 'message'),
                    ('stations', 'normalise_text', 'station_text')] %}
{{ mapped_values(mappings, 'rejected') }}

select
    r.quarantine_id,
    r.stage,
    r.record_type,
    {{ mapped('paths') }} as file,
    {{ mapped('sheets') }} as sheet,
    r.line_number,
    lk.station_id,
    r.record_date,
    r.reason_code,
    {{ mapped('messages') }} as message,
    redact_values(r.record_type, r.raw_values) as raw_values,
    r.quarantined_at
from rejected as r
{{ join_mapped(mappings) }}
left join {{ ref('int_station_lookup') }} as lk on lk.station_match = {{ mapped('stations') }}
