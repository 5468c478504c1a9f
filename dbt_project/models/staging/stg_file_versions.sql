{#- The file versions the stg_ models have staged (record type, version, whether it counted,
    rows): built after them, read by them on the next run (macro landed_rows) to find the
    versions that are new or changed since. Incremental: adds this build's batch of each
    record type, chosen by the same macro (staging_versions) from the same ledger and the same
    previous state as the stg_ models chose theirs. Deliberately not a ref() from the stg_
    models (that would be a cycle); a missing or stale table only makes the next run re-stage
    more versions, never fewer. -#}
-- depends_on: {{ ref('stg_inspections') }}
-- depends_on: {{ ref('stg_disputes') }}
-- depends_on: {{ ref('stg_traffic') }}
{{ config(materialized='incremental', unique_key=['record_type', 'file_version_id'],
          incremental_strategy='delete+insert') }}

{% for record_type in ['inspections', 'disputes', 'traffic'] %}
{%- if not loop.first %}
union all
{% endif -%}
select * from (
    with {{ staging_versions(record_type, this if is_incremental() else none) }}
    select
        cast('{{ record_type }}' as varchar) as record_type,
        cast(file_version_id as varchar) as file_version_id,
        cast(is_current as boolean) as is_current,
        cast(rows_landed as bigint) as rows_landed
    from batch_versions
)
{% endfor %}
