{#- Month-incremental models (mart_station_daily, int_station_days): as tables rebuilt every
    night they read all history, yet a night changes a few months. Each row keeps the month it
    belongs to (`_month`, the first day) and the fingerprint of its sources in that month
    (`_fingerprint`: row counts and largest batch stamps, macros station_daily_fingerprints and
    station_days_fingerprints in warehouse.sql). A night recomputes only the months whose
    fingerprint differs from the one recorded, deletes the rows of months no source has any
    more, and leaves the rest. Why a count and a largest stamp are enough: the models change a
    row only by deleting it or by writing it anew with a batch stamp above every earlier one,
    so a month that lost rows has fewer and a month that gained or rewrote rows has a larger
    stamp (the publish's stamps rely on the same). A reference-data change re-resolves every
    record, so every month changes. -#}

{#- The month of a DATE expression, as a DATE (its first day). -#}
{% macro month_of(day) -%}
    cast(date_trunc('month', {{ day }}) as date)
{%- endmacro %}

{#- The months to recompute: rows of (_month, _fingerprint) for months whose fingerprint in
    `fingerprints` (SQL with those two columns) differs from the one recorded in the model's
    rows, _fingerprint none for a month only the model still has. none on a full build (and
    when parsing): every month. -#}
{% macro changed_months(fingerprints) -%}
    {%- if not (execute and is_incremental() and month_columns_present()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sql -%}
        select cast(_month as varchar), now
        from ({{ compare_fingerprints(fingerprints, this) }})
        where now is distinct from recorded and _month is not null
        order by 1
    {%- endset -%}
    {{ return(run_query(sql).rows) }}
{%- endmacro %}

{#- Per month, the fingerprint of the sources now (`now`) beside the one the rows of
    `relation` recorded (`recorded`); a month on one side only has NULL on the other. Read by
    changed_months and by mart_station_daily's reconciliation check. -#}
{% macro compare_fingerprints(fingerprints, relation) -%}
    select coalesce(n._month, r._month) as _month, n._fingerprint as now,
        r._fingerprint as recorded
    from ({{ fingerprints }}) as n
    full join (select distinct _month, _fingerprint from {{ relation }}) as r
        on r._month = n._month
{%- endmacro %}

{#- The bookkeeping columns of a month-incremental model's rows. -#}
{% macro month_columns() -%}
    {{ return(['_month', '_fingerprint']) }}
{%- endmacro %}

{#- The model's rows carry the month columns (false for a table written before the model was
    month-incremental: its first build recomputes every month). -#}
{% macro month_columns_present() -%}
    {{ return(has_columns(month_columns())) }}
{%- endmacro %}

{#- The batch stamp of a month-incremental model's rows (macro batch_stamp), also on the first
    build after its rows gained the month columns. -#}
{% macro month_stamp(column) -%}
    {{ built_stamp(column, month_columns()) }}
{%- endmacro %}

{#- The changed months as a relation (_month, _fingerprint): literal rows on a night, the
    fingerprints themselves on a full build. -#}
{% macro months_relation(changed, fingerprints) -%}
    {%- if changed is none -%}
    select _month, _fingerprint from ({{ fingerprints }})
    {%- elif changed | length == 0 -%}
    select cast(null as date) as _month, cast(null as varchar) as _fingerprint where false
    {%- else -%}
    select cast(m as date) as _month, cast(f as varchar) as _fingerprint
    from (values
        {%- for month, fingerprint in changed %}
        ('{{ month }}', {{ "'" ~ fingerprint ~ "'" if fingerprint is not none else 'null' }})
        {{- ',' if not loop.last }}
        {%- endfor %}) as t(m, f)
    {%- endif -%}
{%- endmacro %}

{#- A predicate on a DATE column: the day falls in one of the changed months (true on a full
    build). One literal range per month, or'ed: DuckDB pushes them into the scan, whose zone
    maps then skip the row groups of other months (one range from the first changed month to
    the last read everything in between: a stray date in 1999 cost 0.7 s a table at 10x).
    Month 0001-01 (int_station_days's month of a day without a date) matches the NULL days. -#}
{% macro in_months(day, changed) -%}
    {%- if changed is none -%}
    true
    {%- else -%}
    {%- set months = changed | map(attribute=0) | map('string') | reject('eq', '0001-01-01')
        | list -%}
    (false
    {%- for month in months %}
        or ({{ day }} >= date '{{ month }}' and {{ day }} < date '{{ month }}' + interval 1 month)
    {%- endfor %}
    {%- if months | length < changed | length %} or {{ day }} is null{% endif -%}
    )
    {%- endif -%}
{%- endmacro %}
