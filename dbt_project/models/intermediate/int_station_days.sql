{#- What arrived for each station × record type × day: accepted records, rows held back by the
    models, landed and landing-quarantined rows of the current file versions, exports that
    arrived empty, the file versions behind them and when they first arrived. A station-day
    nobody exported anything for has no row here (mart_reporting_coverage: MISSING). Rows of
    an unknown station belong to no station-day (they are in quality.unknown_values).
    Incremental per month (macros/months.sql): a month is recomputed when the rows of its
    sources (macro station_days_fingerprints) changed, a month no source has any more loses
    its rows. -#}
{{ config(materialized='incremental', unique_key='_month',
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="delete from {{ this }} where _tombstone or _month is null") }}

{%- set fingerprints = station_days_fingerprints() %}
{%- set changed = changed_months(fingerprints) %}
-- noqa: disable=AM07
-- (the tombstone at the end is a union by name: sqlfluff counts it as a plain union's)

with months as (
    {{ months_relation(changed, fingerprints) }}
),

lookup as (
    select
        station_match,
        station_id
    from {{ ref('int_station_lookup') }}
    where station_id is not null
),

versions as (
    select
        file_version_id,
        path,
        sha256,
        record_type,
        first_seen_at,
        exported_at,
        rows_read,
        detail
    from {{ source('ops', 'file_ledger') }}
    where status = 'loaded'
),

records as (
    {%- for record_type, model, station, day in [
        ('inspections', 'int_inspections', 'station_id', 'inspected_on'),
        ('disputes', 'int_disputes', 'station_id', 'reported_on'),
        ('traffic', 'int_traffic', 'unit_id', 'occurred_on')] %}
    select
        {{ station }} as station_id,
        cast('{{ record_type }}' as varchar) as record_type,
        {{ day }} as day,
        count(*) filter (where not is_rejected) as records,
        count(*) filter (where is_rejected) as rows_held_back
    from {{ ref(model) }}
    where {{ station }} is not null and {{ in_months(day, changed) }}
    group by all
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

landed as (
    {%- for record_type, model, match, day in [
        ('inspections', 'stg_inspections', 'station_match', 'inspected_on'),
        ('disputes', 'stg_disputes', 'station_match', 'reported_on'),
        ('traffic', 'stg_traffic', 'unit_match', 'occurred_on')] %}
    select
        lk.station_id,
        cast('{{ record_type }}' as varchar) as record_type,
        s.{{ day }} as day,
        s._file_version_id as file_version_id,
        count(*) as rows_landed
    from {{ ref(model) }} as s
    inner join lookup as lk on lk.station_match = s.{{ match }}
    where s._is_current and {{ in_months('s.' ~ day, changed) }}
    group by all
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

quarantined as (
    select
        lk.station_id,
        q.record_type,
        coalesce(q.record_date, cast(v.exported_at as date)) as day,
        v.file_version_id,
        count(*) as rows_quarantined
    from {{ source('ops', 'quarantine') }} as q
    inner join versions as v on v.path = q.source_path and v.sha256 = q.file_sha256
    inner join lookup as lk on lk.station_match = {{ normalise_text('q.station_text') }}
    where
        q.stage = 'landing' and q.reason_code <> 'file_failed'
        and {{ in_months('coalesce(q.record_date, cast(v.exported_at as date))', changed) }}
    group by all
),

empty_exports as (
    select
        lk.station_id,
        v.record_type,
        cast(v.exported_at as date) as day,
        v.file_version_id
    from versions as v
    inner join lookup as lk on lk.station_match = {{ normalise_text(
        "coalesce(json_extract_string(v.detail, '$.sheets[0].segments[0].station'), "
        "json_extract_string(v.detail, '$.path_station'))") }}
    where v.rows_read = 0 and {{ in_months('cast(v.exported_at as date)', changed) }}
),

files as (
    select
        station_id,
        record_type,
        day,
        file_version_id
    from landed
    union
    select
        station_id,
        record_type,
        day,
        file_version_id
    from quarantined
    union
    select
        station_id,
        record_type,
        day,
        file_version_id
    from empty_exports
),

arrivals as (
    select
        f.station_id,
        f.record_type,
        f.day,
        count(*) as files_received,
        count(*) filter (where v.rows_read = 0) as empty_exports,
        min(v.first_seen_at) as first_arrival_at,
        max(v.first_seen_at) as last_arrival_at
    from files as f
    inner join versions as v using (file_version_id)
    group by all
),

landed_days as (
    select
        station_id,
        record_type,
        day,
        sum(rows_landed) as rows_landed
    from landed
    group by all
),

quarantined_days as (
    select
        station_id,
        record_type,
        day,
        sum(rows_quarantined) as rows_quarantined
    from quarantined
    group by all
),

keys as (
    select
        station_id,
        record_type,
        day
    from arrivals
    union
    select
        station_id,
        record_type,
        day
    from records
)

select
    k.station_id,
    k.record_type,
    k.day,
    cast(coalesce(a.files_received, 0) as bigint) as files_received,
    cast(coalesce(a.empty_exports, 0) as bigint) as empty_exports,
    cast(coalesce(r.records, 0) as bigint) as records,
    cast(coalesce(r.rows_held_back, 0) as bigint) as rows_held_back,
    cast(coalesce(l.rows_landed, 0) as bigint) as rows_landed,
    cast(coalesce(q.rows_quarantined, 0) as bigint) as rows_quarantined,
    a.first_arrival_at,
    a.last_arrival_at,
    m._month,
    m._fingerprint,
    false as _tombstone
from keys as k
inner join months as m on m._month = {{ station_days_month('k.day') }}
left join arrivals as a using (station_id, record_type, day)
left join records as r using (station_id, record_type, day)
left join landed_days as l using (station_id, record_type, day)
left join quarantined_days as q using (station_id, record_type, day)
{%- if is_incremental() %}
union all by name
select
    _month,
    _fingerprint,
    true as _tombstone
from months
{%- endif %}
