{#- Latest export wins: per natural key the row with the greatest
    (_exported_at, _first_seen_at, _source_path, _line) is kept (docs/architecture.md);
    _sheet only breaks exact ties deterministically. -#}
{% macro latest_export_order() -%}
    _exported_at desc nulls last, _first_seen_at desc nulls last, _source_path desc nulls last,
    _line desc nulls last, _sheet desc nulls last
{%- endmacro %}

{#- A rate as DECIMAL(9,6) in [0, 1], rounded half up, computed in integers (exact);
    NULL when the denominator is 0. -#}
{% macro rate(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then cast(
        ((2 * cast({{ numerator }} as hugeint) * 1000000 + ({{ denominator }}))
            // (2 * cast({{ denominator }} as hugeint))) / 1000000.0
        as decimal(9, 6)) end
{%- endmacro %}

{#- The batch timestamp an incremental model stamps on the rows it (re)writes: the run start,
    but always later than every stamp already in the table, so downstream watermarks
    ("stamp > max(stamp) I have seen") never miss a batch even if the clock steps back. -#}
{% macro batch_stamp(column) -%}
    {%- set started = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- if is_incremental() -%}
    greatest(timestamp '{{ started }}',
             coalesce((select max({{ column }}) from {{ this }}), timestamp '{{ started }}')
                 + interval 1 microsecond)
    {%- else -%}
    timestamp '{{ started }}'
    {%- endif -%}
{%- endmacro %}

{#- Largest value of a stamp column in this model's current table ('-infinity' when empty). -#}
{% macro watermark(column) -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamp) from {{ this }})
{%- endmacro %}

{#- The four organisational levels of the campaign marts, as a UNION ALL over a relation that
    carries station_name, bureau_name, city, province: adds columns level and unit_name. -#}
{% macro unit_levels(relation) -%}
    {%- for level, column in [('station', 'station_name'), ('bureau', 'bureau_name'),
                              ('city', 'city'), ('province', 'province')] %}
    select cast('{{ level }}' as varchar) as level, cast({{ column }} as varchar) as unit_name, *
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Staging core shared by the stg_ models: the landed rows of a record type and, per natural
    key, its latest export (latest_export_order) with the number of landed versions.

    Incremental: only keys with a landing row of a landing batch (run id) that is new or has
    grown since the last build are recomputed, each from all its landed versions. The batches
    already staged are recorded in stg_landing_batches (built after the stg_ models); a row
    released later from landing quarantine lands with a new run id, so it is seen too, even
    though it keeps its file's original _first_seen_at. -#}
{% macro latest_landed(record_type, key_column) -%}
{#- the source is read directly in each CTE (no shared CTE), so DuckDB never materialises
    the whole landing table: the touched keys are found from two columns, then only their
    rows are read in full. Landing stores every key trimmed and never '' (stage._clean,
    tests/landing/test_values.py), so keys are compared as stored: a plain column filter that
    DuckDB pushes into the scan (incremental stg_traffic on a city warehouse: 4.3-4.9 s with
    trim() on every landed key, 1.7-2.1 s without) -#}
{%- if is_incremental() %}
{%- set batches = adapter.get_relation(database=this.database, schema=this.schema,
                                       identifier='stg_landing_batches') if execute else none %}
landing_batches as (
    select coalesce(_run_id, '') as run_id, count(*) as rows_landed
    from {{ source('landing', record_type) }}
    group by 1
),
new_batches as (
    select l.run_id
    from landing_batches l
    {%- if batches is not none %}
    left join {{ batches }} b on b.record_type = '{{ record_type }}' and b.run_id = l.run_id
    where b.rows_landed is distinct from l.rows_landed
    {%- endif %}
),
touched as (
    select distinct {{ key_column }} as record_key
    from {{ source('landing', record_type) }}
    where coalesce(_run_id, '') in (select run_id from new_batches)
        and {{ key_column }} <> ''
),
{%- endif %}
{#- rank on the narrow columns only, then fetch the winning rows by rowid: a window over the
    full-width rows costs about twice as much (10 M city traffic rows: 24 s against 41 s) #}
ranked as (
    select
        rowid as landed_rowid,
        {{ key_column }} as record_key,
        max(_first_seen_at) over (partition by {{ key_column }}) as last_landed_at,
        count(*) over (partition by {{ key_column }}) as landed_versions
    from {{ source('landing', record_type) }}
    where {{ key_column }} <> ''
    {%- if is_incremental() %}
        and {{ key_column }} in (select record_key from touched)
    {%- endif %}
    qualify row_number() over (
        partition by {{ key_column }} order by {{ latest_export_order() }}) = 1
),
latest as (
    select ranked.record_key, landed.*, ranked.last_landed_at, ranked.landed_versions
    from {{ source('landing', record_type) }} as landed
    join ranked on landed.rowid = ranked.landed_rowid
)
{%- endmacro %}

{#- Campaign marts are incremental per campaign: a campaign's rows are recomputed (from all its
    fact rows) only when the fingerprint of its facts changed: the number of fact rows and a
    sum of hash(natural key, _resolved_at). A new, corrected, moved, re-resolved or rejected
    record changes the fingerprint of every campaign it enters or leaves; a reference-data
    change re-resolves every record and so recomputes every campaign. Historical campaigns
    whose facts did not change are not read beyond the fingerprint scan. -#}
{% macro campaign_fingerprints(fact_model, key_column) -%}
fingerprints as (
    select
        campaign_id,
        cast(count(*) as bigint) as fact_rows,
        lower(hex(sum(hash({{ key_column }}, _resolved_at)))) as fact_fingerprint
    from {{ ref(fact_model) }}
    where campaign_id is not null
    group by campaign_id
),
changed_campaigns as (
    select f.campaign_id
    from fingerprints f
    {%- if is_incremental() %}
    left join (select distinct campaign_id, _fact_rows, _fact_fingerprint from {{ this }}) m
        on m.campaign_id = f.campaign_id
    where m._fact_rows is distinct from f.fact_rows
        or m._fact_fingerprint is distinct from f.fact_fingerprint
    {%- endif %}
)
{%- endmacro %}

{#- post-hook of the campaign marts: a campaign left without any fact row loses its rows -#}
{% macro delete_campaigns_without_facts(fact_model) -%}
    delete from {{ this }}
    where campaign_id not in (
        select campaign_id from {{ ref(fact_model) }} where campaign_id is not null)
{%- endmacro %}
