{#- Every raw spelling the reference data does not know: station (or unit) names and code
    texts that held records back, with how many records, when they were first and last
    exported, the files (masked) and where to add the spelling. -#}
with spellings as (
    {%- for record_type, model, station, fields in [
        ('inspections', 'int_inspections', 'station_text',
         [('venue_type', 'venue_type_text', 'venue_type_code')]),
        ('disputes', 'int_disputes', 'station_text',
         [('dispute_source', 'source_text', 'source_code'),
          ('dispute_type', 'dispute_type_text', 'dispute_type'),
          ('risk_level', 'risk_level_text', 'risk_level_code'),
          ('dispute_status', 'status_text', 'status_code'),
          ('mediation_result', 'mediation_result_text', 'mediation_result_code')]),
        ('traffic', 'int_traffic', 'unit_text',
         [('violation', 'coalesce(violation_code_text, violation_text)', 'violation_code'),
          ('action', 'action_text', 'action_code')])] %}
    select
        cast('{{ record_type }}' as varchar) as record_type,
        cast('station' as varchar) as dimension,
        {{ station }} as raw_value,
        source_file,
        exported_at
    from {{ ref(model) }}
    where station_problem is not null and nullif(trim({{ station }}), '') is not null
    {%- for dimension, text, code in fields %}
    union all
    select
        '{{ record_type }}',
        '{{ dimension }}',
        {{ text }},
        source_file,
        exported_at
    from {{ ref(model) }}
    where
        code_problem is not null and {{ code }} is null
        and nullif(trim({{ text }}), '') is not null
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),
{%- set mappings = [('values', 'mask_pii', 'raw_value'), ('paths', 'mask_pii', 'source_file')] %}
{{ mapped_values(mappings, 'spellings') }}

select
    s.record_type,
    s.dimension,
    {{ mapped('values') }} as raw_value,
    cast(count(*) as bigint) as records,
    min(s.exported_at) as first_exported_at,
    max(s.exported_at) as last_exported_at,
    string_agg(distinct {{ mapped('paths') }}, '; ' order by {{ mapped('paths') }}) as files,
    case
        when s.dimension = 'station'
            then 'dbt_project/seeds/station_aliases.csv or raw/reference/stations*.csv'
        else 'dbt_project/seeds/code_crosswalk.csv'
    end as add_to
from spellings as s
{{ join_mapped(mappings) }}
group by all
