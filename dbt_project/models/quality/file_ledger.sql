{#- Every raw file version the warehouse has seen (ops.file_ledger), as operators and stations
    read it: the station its path or title names, its status and counts, why it failed, and
    the version that replaced (or fixed) it. File names and messages are masked for personal
    data. is_current: the version is what its path holds now. -#}
with ledger as (
    select
        *,
        row_number() over (partition by path order by coalesce(current_since, first_seen_at) desc)
        = 1 as is_current,
        coalesce(
            json_extract_string(detail, '$.sheets[0].segments[0].station'),
            json_extract_string(detail, '$.path_station')
        ) as station_text
    from {{ source('ops', 'file_ledger') }}
),
{{ mapped_values([('paths', 'mask_pii', 'path'), ('messages', 'mask_pii', 'error_message'),
                  ('stations', 'normalise_text', 'station_text')], 'ledger') }}

select
    l.file_version_id,
    {{ mapped('paths') }} as path,
    l.record_type,
    lk.station_id,
    l.status,
    l.is_current,
    cast(l.rows_read as bigint) as rows_read,
    cast(l.rows_landed as bigint) as rows_landed,
    cast(l.rows_quarantined as bigint) as rows_quarantined,
    cast(l.lines_skipped as bigint) as lines_skipped,
    {{ mapped('messages') }} as reason,
    coalesce(l.retry, false) as retried_every_run,
    l.superseded_by,
    l.encoding,
    cast(l.size_bytes as bigint) as size_bytes,
    l.exported_at,
    l.first_seen_at,
    l.loaded_at
from ledger as l
{{ join_mapped([('paths', 'mask_pii', 'path'), ('messages', 'mask_pii', 'error_message'),
                ('stations', 'normalise_text', 'station_text')]) }}
left join {{ ref('int_station_lookup') }} as lk on lk.station_match = {{ mapped('stations') }}
