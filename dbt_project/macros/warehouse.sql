{#- Latest export wins: among the current versions of one record (station, record number), the
    row with the greatest (exported_at, source_file, source_sheet, source_line) is kept
    (docs/architecture.md): a total order on what the files hold and are called, never on when
    they arrived. exported_at falls back to the first-seen time only for a file whose content
    and name carry no export date. -#}
{% macro latest_export_order() -%}
    exported_at desc nulls last, source_file desc nulls last, source_sheet desc nulls last,
    source_line desc nulls last
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

{#- The incremental model's table has these columns (false for a table written before they
    were added: see built_stamp, campaign_fingerprints). True when parsing (and under sqlfluff,
    whose jinja templater has no adapter): nothing is run then. -#}
{% macro has_columns(names) -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {{ return(names | reject('in', columns) | list | length == 0) }}
{%- endmacro %}

{#- batch_stamp, also on the first build after the model's rows gained the column (or the
    `required` columns its bookkeeping reads: macro month_stamp). -#}
{% macro built_stamp(column, required=none) -%}
    {%- if execute and is_incremental() and not has_columns(required or [column]) -%}
    timestamp '{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') }}'
    {%- else -%}
    {{ batch_stamp(column) }}
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

{#- The file versions the stg_ models stage, as CTEs `versions` (every version the ledger lists
    as loaded (current) or superseded, with rows) and `batch_versions` (those this build stages).

    Incremental: only file versions that are new, changed state (superseded by a new version of
    their path, or back after a revert) or gained rows (released from landing quarantine) since
    the last build are (re)staged; `staged` is stg_file_versions (built after the stg_ models),
    the versions already staged. At most var('staging_batch_rows') rows are staged per record
    type and build, oldest versions first (and always at least one version): a backlog larger
    than that (a catch-up after an outage, older years loaded at once) is staged over several
    builds, which the dbt asset runs before the night's build (pipelines/defs/dbt.py), so
    memory and temporary disk follow the batch, not the backlog. stg_file_versions records the
    same batch with this same macro. Without stg_file_versions, or on a full build, every
    version is staged at once. -#}
{% macro staging_versions(record_type, staged) -%}
versions as (
    select file_version_id, path, sha256, status = 'loaded' as is_current, rows_landed,
        first_seen_at
    from {{ source('ops', 'file_ledger') }}
    where record_type = '{{ record_type }}' and status in ('loaded', 'superseded')
        and rows_landed > 0
),
batch_versions as (
    {%- if staged is not none %}
    select * exclude (rows_through)
    from (
        select
            v.*,
            sum(v.rows_landed) over (
                order by v.first_seen_at, v.file_version_id
                rows between unbounded preceding and current row) as rows_through
        from versions v
        left join {{ staged }} s on s.record_type = '{{ record_type }}'
            and s.file_version_id = v.file_version_id
        where s.file_version_id is null or s.is_current <> v.is_current
            or s.rows_landed <> v.rows_landed
    )
    -- within the bound, and the oldest version even when it alone exceeds it
    where rows_through <= {{ var('staging_batch_rows') }} or rows_through = rows_landed
    {%- else %}
    select * from versions
    {%- endif %}
)
{%- endmacro %}

{#- Staging core shared by the stg_ models: the landed rows of the file versions this build
    stages (macro staging_versions), with `_file_version_id` and `_is_current`, all rows of
    each version with a new _staged_at. A superseded version's rows stay, marked not current:
    the int_ models re-resolve their records from what is left. -#}
{% macro landed_rows(record_type) -%}
{%- set staged = adapter.get_relation(database=this.database, schema=this.schema,
                                      identifier='stg_file_versions')
    if execute and is_incremental() else none %}
{{ staging_versions(record_type, staged) }},
landed as (
    select l.*, v.file_version_id as _file_version_id, v.is_current as _is_current
    from {{ source('landing', record_type) }} l
    join batch_versions v on v.path = l._source_path and v.sha256 = l._file_sha256
)
{%- endmacro %}

{#- Campaign marts are incremental per campaign: a campaign's rows are recomputed (from all its
    fact rows) only when the fingerprint of its facts changed: the number of fact rows and the
    largest _resolved_at. The models change a fact row only by deleting it or by writing it
    anew with a batch stamp above every earlier one (macros/months.sql says why), so a new,
    corrected, moved, re-resolved or rejected record changes the fingerprint of every campaign
    it enters or leaves; a reference-data change (campaign dates included) re-resolves every
    record and so recomputes every campaign. Historical campaigns whose facts did not change
    are not read beyond the fingerprint scan (two narrow columns: 10x city traffic 0.07 s; a
    sum of hashes of the record keys took 0.25 s). -#}
{% macro campaign_fingerprints(fact_model) -%}
fingerprints as (
    select
        campaign_id,
        cast(count(*) as bigint) as fact_rows,
        cast(max(_resolved_at) as varchar) as fact_fingerprint
    from {{ ref(fact_model) }}
    where campaign_id is not null
    group by campaign_id
),
changed_campaigns as (
    select f.campaign_id
    from fingerprints f
    {#- rows written before the marts stamped _built_at: every campaign is recomputed once #}
    {%- if is_incremental() and has_columns(['_built_at']) %}
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
    where campaign_id not in (  -- distinct: the hash holds the campaigns, not 10 M fact rows
        select distinct campaign_id from {{ ref(fact_model) }} where campaign_id is not null)
{%- endmacro %}

{#- The month fingerprints of mart_station_daily's facts (macro changed_months): per month,
    each fact table's row count and the largest _resolved_at of the three. Read by the model
    and by its reconciliation check. -#}
{% macro station_daily_fingerprints() -%}
select
    _month,
    string_agg(record_type || ':' || n, ' ' order by record_type)
        || ' @' || coalesce(cast(max(stamp) as varchar), '') as _fingerprint
from (
    {%- for record_type, model, day in [
        ('disputes', 'fct_disputes', 'reported_on'),
        ('inspections', 'fct_inspections', 'inspected_on'),
        ('traffic', 'fct_traffic_violations', 'occurred_on')] %}
    select
        {{ month_of('day') }} as _month,
        '{{ record_type }}' as record_type,
        cast(sum(n) as bigint) as n,
        max(stamp) as stamp
    from ({{ per_day(ref(model), day, 'count(*) as n, max(_resolved_at) as stamp') }})
    group by 1
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)
group by _month
{%- endmacro %}

{#- The month fingerprints of int_station_days's sources (macro changed_months): per month,
    the int_ models' accepted records (count, largest _resolved_at) and held-back records
    (count, and a sum of hashes of record key, station and day: every rejected number is
    resolved again each night with a new stamp, mostly to the same outcome, which must not
    make its month change), the stg_ models' rows and largest _staged_at (a version
    superseded or counting again is restaged), the landing-quarantined rows and empty exports
    of the versions that count with the latest time one of them began to count, and the
    reference data's hash (an alias added moves rows between stations). A day without a date
    counts as month 0001-01. -#}
{% macro station_days_fingerprints() -%}
select
    _month,
    string_agg(part || ':' || coalesce(detail, ''), ' ' order by part)
        || ' ' || (select reference_hash from {{ ref('int_reference_version') }}) as _fingerprint
from (
    {%- for model, key, station, day in [
        ('int_inspections', 'inspection_key', 'station_id', 'inspected_on'),
        ('int_disputes', 'dispute_key', 'station_id', 'reported_on'),
        ('int_traffic', 'ticket_key', 'unit_id', 'occurred_on')] %}
    select
        {{ station_days_month('day') }} as _month,
        '{{ model }}' as part,
        cast(sum(n) as bigint) || '@' || cast(max(stamp) as varchar) as detail
    from ({{ per_day(ref(model), day, 'count(*) as n, max(_resolved_at) as stamp',
                     'not is_rejected') }})
    group by 1
    union all
    select
        {{ station_days_month(day) }},
        '{{ model }} held back',
        count(*) || '#' || cast(sum(hash({{ key }}, {{ station }}, {{ day }})) as varchar)
    from {{ ref(model) }}
    where is_rejected
    group by 1
    union all
    {%- endfor %}
    {%- for model, day in [
        ('stg_inspections', 'inspected_on'),
        ('stg_disputes', 'reported_on'),
        ('stg_traffic', 'occurred_on')] %}
    select
        {{ station_days_month('day') }},
        '{{ model }}',
        cast(sum(n) as bigint) || '@' || coalesce(cast(max(stamp) as varchar), '')
    from ({{ per_day(ref(model), day, 'count(*) as n, max(_staged_at) as stamp') }})
    group by 1
    union all
    {%- endfor %}
    select
        {{ station_days_month('coalesce(q.record_date, cast(v.exported_at as date))') }},
        'quarantine',
        count(*) || '@' || coalesce(cast(max(coalesce(v.current_since, v.first_seen_at))
            as varchar), '')
    from {{ source('ops', 'quarantine') }} as q
    inner join {{ source('ops', 'file_ledger') }} as v
        on v.path = q.source_path and v.sha256 = q.file_sha256 and v.status = 'loaded'
    where q.stage = 'landing' and q.reason_code <> 'file_failed'
    group by 1
    union all
    select
        {{ station_days_month('cast(exported_at as date)') }},
        'empty_exports',
        count(*) || '@' || coalesce(cast(max(coalesce(current_since, first_seen_at))
            as varchar), '')
    from {{ source('ops', 'file_ledger') }}
    where status = 'loaded' and rows_read = 0
    group by 1
)
group by _month
{%- endmacro %}

{#- Per day (column `day`) of a relation, the aggregates given: the fingerprints add the days up
    to months. A DATE column groups directly (a perfect hash over its few thousand values), the
    month expression per row did not (10x city traffic, count and largest stamp per month:
    0.9 s -> 0.3 s). -#}
{% macro per_day(relation, day, aggregates, where='true') -%}
    select {{ day }} as day, {{ aggregates }} from {{ relation }} where {{ where }} group by 1
{%- endmacro %}

{#- int_station_days's month of a day: a day without a date belongs to month 0001-01. -#}
{% macro station_days_month(day) -%}
    coalesce({{ month_of(day) }}, date '0001-01-01')
{%- endmacro %}
