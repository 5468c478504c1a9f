{#- How far the int_ models have resolved: the newest _staged_at of each stg_ model when the
    int_ models last built, and the reference data's hash they resolved against. Built after
    them, read by them on the next run (macro resolve_versions) to find the rows staged since
    and whether the reference data changed. Deliberately not a ref() from the int_ models (a
    cycle); if an int_ model fails this is not rebuilt, so nothing is skipped. -#}
-- depends_on: {{ ref('int_inspections') }}
-- depends_on: {{ ref('int_disputes') }}
-- depends_on: {{ ref('int_traffic') }}
{{ config(materialized='table') }}

{% for model in ['stg_inspections', 'stg_disputes', 'stg_traffic'] %}
select
    cast('{{ model }}' as varchar) as staging_model,
    cast(max(_staged_at) as timestamp) as staged_through,
    (select reference_hash from {{ ref('int_reference_version') }}) as reference_hash
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
