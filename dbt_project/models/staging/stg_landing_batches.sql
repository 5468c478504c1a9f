{#- The landing batches (record type × landing run id, with their row counts) that the stg_
    models have staged: built after them, read by them on the next run (macro latest_landed)
    to find the batches that are new or have grown since. Deliberately not a ref() from the
    stg_ models (that would be a cycle); a missing or stale table only makes the next run
    re-stage more keys, never fewer. -#}
-- depends_on: {{ ref('stg_inspections') }}
-- depends_on: {{ ref('stg_disputes') }}
-- depends_on: {{ ref('stg_traffic') }}
{{ config(materialized='table') }}

{% for record_type in ['inspections', 'disputes', 'traffic'] %}
select
    cast('{{ record_type }}' as varchar) as record_type,
    cast(coalesce(_run_id, '') as varchar) as run_id,
    cast(count(*) as bigint) as rows_landed,
    cast(min(_first_seen_at) as timestamp) as first_seen_from,
    cast(max(_first_seen_at) as timestamp) as first_seen_to,
    cast(count(distinct _file_sha256) as bigint) as file_versions
from {{ source('landing', record_type) }}
group by all
{% if not loop.last %}union all{% endif %}
{% endfor %}
