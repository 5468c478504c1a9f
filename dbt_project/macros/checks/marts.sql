{#- The SQL the great-expectations suites of the marts validate (models/checks/, named by
    expectations/mart_*.batches.yml): rates against their counts, and reconciliation of every
    figure with the fact rows it comes from, computed here independently of the models (long
    form: one row per unit, breakdown and metric). part='summary' is the frame GE validates,
    part='sample' the failing rows. -#}

{#- rates_match_counts: every published rate equals its numerator / denominator as the macro
    rate() defines it (DECIMAL(9,6) rounded half up, NULL when the denominator is 0), and is
    never more than 0.0000005 from the exact ratio.
    rates: list of (rate column, numerator column, denominator column). -#}
{% macro check_rate_mismatches(model, key_columns, rates, part='summary') -%}
WITH rates AS (
{%- for rate_column, numerator, denominator in rates %}
  SELECT '{{ rate_column }}' AS rate, {{ key_columns | join(', ') }},
         {{ numerator }} AS numerator, {{ denominator }} AS denominator,
         {{ rate_column }} AS published,
         {{ rate(numerator, denominator) }} AS expected,
         {{ numerator }} / nullif({{ denominator }}, 0) AS exact_ratio
  FROM {{ ref(model) }}
  {% if not loop.last %}UNION ALL{% endif %}
{%- endfor %}
),
mismatched AS (
  SELECT * FROM rates
  -- rounded half up to 6 places: never more than 0.0000005 from the exact ratio
  WHERE published IS DISTINCT FROM expected
     OR (denominator > 0 AND abs(published - exact_ratio) > 0.00000050001)
)
{% if part == 'sample' -%}
SELECT * FROM mismatched ORDER BY ALL
{%- else -%}
SELECT (SELECT count(*) FROM rates) AS rates_compared,
       (SELECT count(*) FROM mismatched) AS rates_mismatched
{%- endif %}
{%- endmacro %}

{#- The four organisational levels of dim_station: (station_id, level, unit_name). -#}
{% macro check_units() -%}
units AS (
  SELECT station_id, u.level, u.unit_name FROM {{ ref('dim_station') }},
    LATERAL (VALUES ('station', station_name), ('bureau', bureau_name),
                    ('city', city), ('province', province)) AS u(level, unit_name)
)
{%- endmacro %}

{#- The reconciliation frame of a campaign mart from its long forms: per level and metric the
    mart's and the facts' totals and the rows that differ; a row present on one side only
    (metric row_present) counts as zero on the other. -#}
{% macro check_campaign_detail(code_column, part) -%}
detail AS (  -- a row missing on one side counts as zero there
  SELECT coalesce(m.campaign_id, f.campaign_id) AS campaign_id,
         coalesce(m.level, f.level) AS level,
         coalesce(m.unit_name, f.unit_name) AS unit_name,
         coalesce(m.{{ code_column }}, f.{{ code_column }}) AS {{ code_column }},
         coalesce(m.metric, f.metric) AS metric,
         coalesce(m.value, 0) AS mart_value, coalesce(f.value, 0) AS fact_value
  FROM mart_long AS m FULL JOIN fact_long AS f
    ON m.campaign_id = f.campaign_id AND m.level = f.level
   AND m.unit_name = f.unit_name AND m.{{ code_column }} = f.{{ code_column }}
   AND m.metric = f.metric
)
{% if part == 'sample' -%}
SELECT * FROM detail WHERE mart_value <> fact_value ORDER BY ALL
{%- else -%}
SELECT level, metric, sum(mart_value) AS mart_total, sum(fact_value) AS fact_total,
       count(*) FILTER (WHERE mart_value <> fact_value) AS mismatched_rows,
       count(*) AS compared_rows
FROM detail GROUP BY level, metric
{%- if part == 'since' %}
UNION ALL  -- campaigns (with facts, with rows) on each side; a stale campaign is a mismatch
SELECT 'campaign', 'campaign_fingerprints', count(recorded)::DECIMAL(38,4),
       count(now)::DECIMAL(38,4), count(*) FILTER (WHERE now IS DISTINCT FROM recorded), count(*)
FROM campaign_fingerprints
{%- endif %}
ORDER BY level, metric
{%- endif %}
{%- endmacro %}

{#- part='since' of a campaign mart's reconciliation: the campaigns the model wrote since the
    validated run (its rows' _built_at above the stamp the runner binds) and those whose facts'
    fingerprint (macro campaign_fingerprints) is not the one their rows recorded. Facts that
    changed in a campaign the model did not recompute fail the row `campaign_fingerprints`;
    the model's other campaigns are the rows the validated run reconciled. -#}
{% macro campaign_scope(fact_model, mart_model) -%}
{{ campaign_fingerprints(fact_model) }},
campaign_fingerprints AS (
  SELECT coalesce(n.campaign_id, r.campaign_id) AS campaign_id,
         n.fact_rows || ':' || n.fact_fingerprint AS now,
         r._fact_rows || ':' || r._fact_fingerprint AS recorded
  FROM fingerprints AS n
  FULL JOIN (SELECT DISTINCT campaign_id, _fact_rows, _fact_fingerprint
             FROM {{ ref(mart_model) }}) AS r ON r.campaign_id = n.campaign_id
),
scope AS MATERIALIZED (
  SELECT campaign_id FROM campaign_fingerprints WHERE now IS DISTINCT FROM recorded
  UNION
  SELECT campaign_id FROM {{ ref(mart_model) }}
  WHERE _built_at > CAST({{ validated_through() }} AS TIMESTAMP)
),
{%- endmacro %}

{#- The campaigns a reconciliation reads: every one, or on part='since' those in `scope`. -#}
{% macro in_campaign_scope(column, part) -%}
{%- if part == 'since' %} AND {{ column }} IN (SELECT campaign_id FROM scope){% endif -%}
{%- endmacro %}

{% macro check_campaign_inspections_reconciliation(part='summary') -%}
{%- set metrics = ['venues_inspected', 'inspection_visits', 'hazards_found', 'hazards_rectified',
                   'notices_issued', 'closures_ordered', 'rental_households',
                   'rental_rooms'] -%}
WITH {%- if part == 'since' %}
{{ campaign_scope('fct_inspections', 'mart_campaign_inspections') }}
{%- endif %}
{{ check_units() }},
expanded AS (  -- every fact row under its own code and under the rollups
  SELECT f.*, unnest([f.venue_type_code, CASE WHEN f.venue_type_code IN ('SMALL_SHOP',
      'SMALL_RESTAURANT', 'SMALL_HOTEL', 'SMALL_KTV', 'SMALL_NETCAFE', 'SMALL_BEAUTY_BATH',
      'SMALL_SCHOOL', 'SMALL_CLINIC', 'SMALL_WORKSHOP')
      THEN 'ALL_NINE_SMALL' END, 'ALL']) AS breakdown
  FROM {{ ref('fct_inspections') }} AS f
  WHERE f.campaign_id IS NOT NULL{{ in_campaign_scope('f.campaign_id', part) }}
),
fact_long AS (
  SELECT campaign_id, level, unit_name, venue_type_code, metric, value FROM (
    SELECT e.campaign_id, u.level, u.unit_name, e.breakdown AS venue_type_code,
      max(1)::DECIMAL(38,4) AS row_present,
      (count(DISTINCT (e.station_id, coalesce(e.venue_name, e.inspection_id))))::DECIMAL(38,4)
          AS venues_inspected,
      (count(*))::DECIMAL(38,4) AS inspection_visits,
      (sum(e.hazards_found))::DECIMAL(38,4) AS hazards_found,
      (sum(e.hazards_rectified))::DECIMAL(38,4) AS hazards_rectified,
      (sum(e.notices_issued))::DECIMAL(38,4) AS notices_issued,
      (count(DISTINCT CASE WHEN e.closure_ordered
          THEN (e.station_id, coalesce(e.venue_name, e.inspection_id)) END))::DECIMAL(38,4)
          AS closures_ordered,
      (sum(e.rental_households))::DECIMAL(38,4) AS rental_households,
      (sum(e.rental_rooms))::DECIMAL(38,4) AS rental_rooms
    FROM expanded AS e JOIN units AS u ON u.station_id = e.station_id
    WHERE e.breakdown IS NOT NULL
    GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
mart_long AS (
  SELECT campaign_id, level, unit_name, venue_type_code, metric, value FROM (
    SELECT campaign_id, level, unit_name, venue_type_code,
      1::DECIMAL(38,4) AS row_present,
      {%- for m in metrics %}
      {{ m }}::DECIMAL(38,4) AS {{ m }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM {{ ref('mart_campaign_inspections') }}
    WHERE true{{ in_campaign_scope('campaign_id', part) }}
  ) UNPIVOT INCLUDE NULLS (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
{{ check_campaign_detail('venue_type_code', part) }}
{%- endmacro %}

{% macro check_campaign_disputes_reconciliation(part='summary') -%}
{%- set metrics = ['disputes_found', 'disputes_resolved', 'mediations', 'mediation_successes',
                   'escalations'] -%}
WITH {%- if part == 'since' %}
{{ campaign_scope('fct_disputes', 'mart_campaign_disputes') }}
{%- endif %}
{{ check_units() }},
expanded AS (  -- every fact row under its own code and under the rollups
  SELECT f.*, unnest([f.source_code, 'ALL']) AS breakdown
  FROM {{ ref('fct_disputes') }} AS f
  WHERE f.campaign_id IS NOT NULL{{ in_campaign_scope('f.campaign_id', part) }}
),
fact_long AS (
  SELECT campaign_id, level, unit_name, source_code, metric, value FROM (
    SELECT e.campaign_id, u.level, u.unit_name, e.breakdown AS source_code,
      max(1)::DECIMAL(38,4) AS row_present,
      (count(*))::DECIMAL(38,4) AS disputes_found,
      (count(*) FILTER (WHERE e.status_code = 'RESOLVED'))::DECIMAL(38,4) AS disputes_resolved,
      (count(e.mediation_result_code))::DECIMAL(38,4) AS mediations,
      (count(*) FILTER (WHERE e.mediation_result_code = 'SUCCESS'))::DECIMAL(38,4)
          AS mediation_successes,
      (count(*) FILTER (WHERE e.escalated_to_criminal))::DECIMAL(38,4) AS escalations
    FROM expanded AS e JOIN units AS u ON u.station_id = e.station_id
    WHERE e.breakdown IS NOT NULL
    GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
mart_long AS (
  SELECT campaign_id, level, unit_name, source_code, metric, value FROM (
    SELECT campaign_id, level, unit_name, source_code,
      1::DECIMAL(38,4) AS row_present,
      {%- for m in metrics %}
      {{ m }}::DECIMAL(38,4) AS {{ m }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM {{ ref('mart_campaign_disputes') }}
    WHERE true{{ in_campaign_scope('campaign_id', part) }}
  ) UNPIVOT INCLUDE NULLS (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
{{ check_campaign_detail('source_code', part) }}
{%- endmacro %}

{% macro check_campaign_traffic_reconciliation(part='summary') -%}
{%- set metrics = ['violations', 'fines_yuan'] -%}
WITH {%- if part == 'since' %}
{{ campaign_scope('fct_traffic_violations', 'mart_campaign_traffic') }}
{%- endif %}
{{ check_units() }},
expanded AS (  -- every fact row under its own code and under the rollups
  SELECT f.*, unnest([f.violation_code, 'ALL']) AS breakdown
  FROM {{ ref('fct_traffic_violations') }} AS f
  WHERE f.campaign_id IS NOT NULL{{ in_campaign_scope('f.campaign_id', part) }}
),
fact_long AS (
  SELECT campaign_id, level, unit_name, violation_code, metric, value FROM (
    SELECT e.campaign_id, u.level, u.unit_name, e.breakdown AS violation_code,
      max(1)::DECIMAL(38,4) AS row_present,
      (count(*))::DECIMAL(38,4) AS violations,
      (sum(e.fine_yuan))::DECIMAL(38,4) AS fines_yuan
    FROM expanded AS e JOIN units AS u ON u.station_id = e.unit_id
    WHERE e.breakdown IS NOT NULL
    GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
mart_long AS (
  SELECT campaign_id, level, unit_name, violation_code, metric, value FROM (
    SELECT campaign_id, level, unit_name, violation_code,
      1::DECIMAL(38,4) AS row_present,
      {%- for m in metrics %}
      {{ m }}::DECIMAL(38,4) AS {{ m }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM {{ ref('mart_campaign_traffic') }}
    WHERE true{{ in_campaign_scope('campaign_id', part) }}
  ) UNPIVOT INCLUDE NULLS (value FOR metric IN (row_present, {{ metrics | join(', ') }}))
),
{{ check_campaign_detail('violation_code', part) }}
{%- endmacro %}

{#- reconciliation of mart_station_daily: every figure of every station-day equals what the
    fact rows of that station and day add up to. part='since' reconciles the months the model
    wrote since the validated run (its rows' _built_at above the stamp the runner binds) and
    checks that every other month's fingerprint (macro station_daily_fingerprints) is still the
    one its rows recorded: facts that changed in a month the model did not recompute fail the
    row `month_fingerprints`. The model's other months are the rows the validated run
    reconciled. -#}
{% macro check_station_daily_reconciliation(part='summary') -%}
{%- set since = part == 'since' -%}
{%- set metrics = ['inspection_visits', 'venues_inspected', 'closures_ordered', 'hazards_found',
                   'hazards_rectified', 'notices_issued', 'rental_households', 'rental_rooms',
                   'disputes_found', 'disputes_resolved', 'mediations', 'mediation_successes',
                   'escalations', 'follow_up_visits', 'traffic_violations', 'fines_yuan'] -%}
{#- the range first: DuckDB pushes it into the scan, whose zone maps skip the other months -#}
{%- set in_scope = ' WHERE {day} >= (SELECT min(_month) FROM scope)'
    ~ ' AND {day} < (SELECT max(_month) FROM scope) + INTERVAL 1 MONTH'
    ~ ' AND ' ~ month_of('{day}') ~ ' IN (SELECT _month FROM scope)' if since else '' -%}
WITH
{%- if since %}
fingerprints AS (
  {{ compare_fingerprints(station_daily_fingerprints(), ref('mart_station_daily')) }}
),
scope AS MATERIALIZED (  -- months written since the validated run, and stale ones
  SELECT _month FROM fingerprints WHERE now IS DISTINCT FROM recorded
  UNION
  SELECT _month FROM {{ ref('mart_station_daily') }}
  WHERE _built_at > CAST({{ validated_through() }} AS TIMESTAMP)
),
{%- endif %}
fact_long AS (
  SELECT station_id, day, metric, value FROM (
    SELECT station_id, inspected_on AS day, count(*)::DECIMAL(38,4) AS inspection_visits,
      count(DISTINCT coalesce(venue_name, inspection_id))::DECIMAL(38,4) AS venues_inspected,
      count(DISTINCT CASE WHEN closure_ordered THEN coalesce(venue_name, inspection_id) END
          )::DECIMAL(38,4) AS closures_ordered,
      sum(hazards_found)::DECIMAL(38,4) AS hazards_found,
      sum(hazards_rectified)::DECIMAL(38,4) AS hazards_rectified,
      sum(notices_issued)::DECIMAL(38,4) AS notices_issued,
      sum(rental_households)::DECIMAL(38,4) AS rental_households,
      sum(rental_rooms)::DECIMAL(38,4) AS rental_rooms
    FROM {{ ref('fct_inspections') }}{{ in_scope.format(day='inspected_on') }} GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (inspection_visits, venues_inspected, closures_ordered,
             hazards_found, hazards_rectified,
             notices_issued, rental_households, rental_rooms))
  UNION ALL
  SELECT station_id, day, metric, value FROM (
    SELECT station_id, reported_on AS day, count(*)::DECIMAL(38,4) AS disputes_found,
      count(*) FILTER (WHERE status_code = 'RESOLVED')::DECIMAL(38,4) AS disputes_resolved,
      count(mediation_result_code)::DECIMAL(38,4) AS mediations,
      count(*) FILTER (WHERE mediation_result_code = 'SUCCESS')::DECIMAL(38,4)
          AS mediation_successes,
      count(*) FILTER (WHERE escalated_to_criminal)::DECIMAL(38,4) AS escalations,
      sum(follow_up_visits)::DECIMAL(38,4) AS follow_up_visits
    FROM {{ ref('fct_disputes') }}{{ in_scope.format(day='reported_on') }} GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (disputes_found, disputes_resolved, mediations,
             mediation_successes, escalations, follow_up_visits))
  UNION ALL
  SELECT station_id, day, metric, value FROM (
    SELECT unit_id AS station_id, occurred_at::DATE AS day,
      count(*)::DECIMAL(38,4) AS traffic_violations,
      sum(fine_yuan)::DECIMAL(38,4) AS fines_yuan
    FROM {{ ref('fct_traffic_violations') }}{{ in_scope.format(day='occurred_on') }}
    GROUP BY ALL
  ) UNPIVOT (value FOR metric IN (traffic_violations, fines_yuan))
),
mart_long AS (
  SELECT station_id, day, metric, value FROM (
    SELECT station_id, day,
      {%- for m in metrics %}
      {{ m }}::DECIMAL(38,4) AS {{ m }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM {{ ref('mart_station_daily') }}
    {%- if since %} WHERE _month IN (SELECT _month FROM scope){% endif %}
  ) UNPIVOT INCLUDE NULLS (value FOR metric IN ({{ metrics | join(', ') }}))
),
detail AS (  -- a station-day missing on one side counts as zero there
  SELECT coalesce(m.station_id, f.station_id) AS station_id,
         coalesce(m.day, f.day) AS day, coalesce(m.metric, f.metric) AS metric,
         coalesce(m.value, 0) AS mart_value, coalesce(f.value, 0) AS fact_value
  FROM mart_long AS m FULL JOIN fact_long AS f
    ON m.station_id = f.station_id AND m.day = f.day AND m.metric = f.metric
)
{% if part == 'sample' -%}
SELECT * FROM detail WHERE mart_value <> fact_value ORDER BY ALL
{%- else -%}
SELECT metric, sum(mart_value) AS mart_total, sum(fact_value) AS fact_total,
       count(*) FILTER (WHERE mart_value <> fact_value) AS mismatched_rows,
       count(*) AS compared_rows
FROM detail GROUP BY metric
{%- if since %}
UNION ALL  -- months (with facts, with rows) on each side; a stale month is a mismatch
SELECT 'month_fingerprints', count(recorded)::DECIMAL(38,4), count(now)::DECIMAL(38,4),
       count(*) FILTER (WHERE now IS DISTINCT FROM recorded), count(*)
FROM fingerprints
{%- endif %}
ORDER BY metric
{%- endif %}
{%- endmacro %}

{#- reconciliation of mart_reporting_coverage: every expected station-day's records equal the
    fact rows of that station, day and record type. Only the facts inside the calendar's span
    are counted (ranges on the day columns skip the other row groups: 10x city, 1.4 s -> 0.3 s);
    a fact outside it has no calendar row to compare with. -#}
{% macro check_coverage_records_match_facts(part='summary') -%}
{%- set first_day = '(SELECT first_day FROM span)' -%}
{%- set last_day = '(SELECT last_day FROM span)' -%}
WITH span AS (
  SELECT min(day) AS first_day, max(day) AS last_day FROM {{ ref('mart_reporting_coverage') }}
),
facts AS (
  SELECT station_id, inspected_on AS day, 'inspections' AS record_type, count(*) AS n
  FROM {{ ref('fct_inspections') }}
  WHERE inspected_on BETWEEN {{ first_day }} AND {{ last_day }} GROUP BY ALL
  UNION ALL
  SELECT station_id, reported_on, 'disputes', count(*) FROM {{ ref('fct_disputes') }}
  WHERE reported_on BETWEEN {{ first_day }} AND {{ last_day }} GROUP BY ALL
  UNION ALL
  SELECT unit_id, occurred_at::DATE, 'traffic', count(*)
  FROM {{ ref('fct_traffic_violations') }}
  WHERE occurred_at >= {{ first_day }} AND occurred_at < {{ last_day }} + 1 GROUP BY ALL
),
compared AS (
  SELECT c.station_id, c.day, c.record_type, c.records, coalesce(f.n, 0) AS fact_rows
  FROM {{ ref('mart_reporting_coverage') }} AS c
  LEFT JOIN facts AS f USING (station_id, day, record_type)
)
{% if part == 'sample' -%}
SELECT * FROM compared WHERE records <> fact_rows ORDER BY day, station_id
{%- else -%}
SELECT count(*) FILTER (WHERE records <> fact_rows) AS mismatched_station_days,
       count(*) AS station_days
FROM compared
{%- endif %}
{%- endmacro %}

{#- reconciliation of mart_reporting_coverage: the status agrees with the counts. -#}
{% macro check_coverage_status_agrees(part='summary') -%}
WITH contradicting AS (
  SELECT station_id, day, record_type, status, records, rows_quarantined,
         rows_held_back, files_received
  FROM {{ ref('mart_reporting_coverage') }}
  WHERE (status = 'MISSING' AND records + rows_quarantined + rows_held_back > 0)
     OR (status IN ('REPORTED', 'LATE')
         AND (records = 0 OR rows_quarantined + rows_held_back > 0))
     OR (status = 'PARTIAL' AND rows_quarantined + rows_held_back = 0)
)
{% if part == 'sample' -%}
SELECT * FROM contradicting ORDER BY day, station_id
{%- else -%}
SELECT count(*) AS contradicting_rows FROM contradicting
{%- endif %}
{%- endmacro %}

{#- reconciliation of mart_reporting_coverage_rollup: every unit-day equals what its stations'
    rows of mart_reporting_coverage add up to. -#}
{% macro check_coverage_rollup_matches(part='summary') -%}
WITH stations AS (
  SELECT unnest(['bureau', 'city', 'province']) AS level,
         unnest([bureau_name, city, province]) AS unit_name, *
  FROM {{ ref('mart_reporting_coverage') }}
),
expected AS (
  SELECT level, unit_name, day, record_type, count(*) AS stations_expected,
         count(*) FILTER (WHERE status = 'MISSING') AS stations_missing,
         sum(records) AS records, sum(rows_quarantined) AS rows_quarantined
  FROM stations GROUP BY ALL
),
compared AS (
  SELECT e.*, r.stations_expected AS r_expected, r.stations_missing AS r_missing,
         r.records AS r_records, r.rows_quarantined AS r_quarantined
  FROM expected AS e FULL JOIN {{ ref('mart_reporting_coverage_rollup') }} AS r
    USING (level, unit_name, day, record_type)
),
wrong AS (
  SELECT * FROM compared
  WHERE r_expected IS DISTINCT FROM stations_expected
     OR r_missing IS DISTINCT FROM stations_missing
     OR r_records IS DISTINCT FROM records
     OR r_quarantined IS DISTINCT FROM rows_quarantined
)
{% if part == 'sample' -%}
SELECT * FROM wrong ORDER BY ALL
{%- else -%}
SELECT count(*) AS mismatched_rows FROM wrong
{%- endif %}
{%- endmacro %}
