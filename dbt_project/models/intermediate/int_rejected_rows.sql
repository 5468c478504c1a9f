{#- Landed records (latest export only) that a station or code lookup rejects, or that repeat
    another station's record (key conflict), one row per (record, reason). The quarantine
    asset (pipelines/defs/quarantine.py) replaces the 'model' stage of ops.quarantine with
    these rows after every build, so a record accepted once its alias or spelling is added to
    a seed leaves the quarantine on the next run. -#}
{% set sources = [
    ('inspections', 'int_inspections', 'inspection_id', 'inspection_key', 'station_text',
     'station_id', 'inspected_on'),
    ('disputes', 'int_disputes', 'dispute_id', 'dispute_key', 'station_text', 'station_id',
     'reported_on'),
    ('traffic', 'int_traffic', 'ticket_id', 'ticket_key', 'unit_text', 'unit_id', 'occurred_on'),
] %}
{% set reasons = [('unknown_station', 'station_problem'), ('unmapped_value', 'code_problem'),
                  ('key_conflict', 'conflict_problem')] %}
{% for record_type, model, number, key, station, station_id, day in sources %}
{% for reason, column in reasons %}
select
    cast('{{ record_type }}' as varchar) as record_type,
    source_file as source_path,
    file_sha256,
    source_sheet as sheet,
    source_line as line_number,
    cast('{{ reason }}' as varchar) as reason_code,
    {{ column }} as message,
    raw_values,
    {{ number }} as record_id,
    {{ key }} as record_key,
    {{ station }} as station_text,
    {{ station_id }} as station_id,
    cast({{ day }} as date) as record_date,
    exported_at
from {{ ref(model) }}
where {{ column }} is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% if not loop.last %}union all{% endif %}
{% endfor %}
