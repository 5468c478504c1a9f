{#- How far the int_ models have resolved: the newest _staged_at of each stg_ model when the
    int_ models last built. Built after them, read by them on the next run (macro
    resolve_versions) to find the rows staged since. Deliberately not a ref() from the int_
    models (a cycle); if an int_ model fails this is not rebuilt, so nothing is skipped. -#}
-- depends_on: {{ ref('int_inspections') }}
-- depends_on: {{ ref('int_disputes') }}
-- depends_on: {{ ref('int_traffic') }}
{{ config(materialized='table') }}

{% for model in ['stg_inspections', 'stg_disputes', 'stg_traffic'] %}
select
    cast('{{ model }}' as varchar) as staging_model,
    cast(max(_staged_at) as timestamp) as staged_through
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
