{#- The file versions the stg_ models have staged (record type, version, whether it counted,
    rows): built after them from the same ledger, read by them on the next run (macro
    landed_rows) to find the versions that are new or changed since. Deliberately not a ref()
    from the stg_ models (that would be a cycle); a missing or stale table only makes the next
    run re-stage more versions, never fewer. -#}
-- depends_on: {{ ref('stg_inspections') }}
-- depends_on: {{ ref('stg_disputes') }}
-- depends_on: {{ ref('stg_traffic') }}
{{ config(materialized='table') }}

select
    cast(record_type as varchar) as record_type,
    cast(file_version_id as varchar) as file_version_id,
    cast(status = 'loaded' as boolean) as is_current,
    cast(rows_landed as bigint) as rows_landed
from {{ source('ops', 'file_ledger') }}
where
    record_type in ('inspections', 'disputes', 'traffic')
    and status in ('loaded', 'superseded') and rows_landed > 0
