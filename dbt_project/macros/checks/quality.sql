{#- The SQL the great-expectations suites of the quality tables validate (models/checks/,
    named by expectations/<table>.batches.yml): each published quality table against the
    warehouse's own bookkeeping. part='summary' is the frame GE validates, part='sample' the
    failing rows. -#}

{#- file_ledger reconciliation: every file version of ops.file_ledger is published. -#}
{% macro check_every_file_version() -%}
SELECT (SELECT count(*) FROM {{ ref('file_ledger') }}) AS published,
       (SELECT count(*) FROM {{ source('ops', 'file_ledger') }}) AS in_ledger
{%- endmacro %}

{#- quarantine reconciliation: every row set aside now is published (landing rejects of the
    versions that count, and the models' held-back records). -#}
{% macro check_every_reject() -%}
SELECT (SELECT count(*) FROM {{ ref('quarantine') }}) AS published,
       (SELECT count(*) FROM {{ source('ops', 'quarantine') }} AS q
          JOIN {{ source('ops', 'file_ledger') }} AS v
          ON v.path = q.source_path AND v.sha256 = q.file_sha256
         AND v.status = 'loaded'
        WHERE q.stage = 'landing' AND q.reason_code <> 'file_failed')
       + (SELECT count(*) FROM {{ ref('int_rejected_rows') }}) AS set_aside
{%- endmacro %}

{#- unknown_values reconciliation: every record held back for an unknown station is counted
    under one unknown station spelling. -#}
{% macro check_unknown_stations_counted() -%}
SELECT (SELECT coalesce(sum(records), 0) FROM {{ ref('unknown_values') }}
        WHERE dimension = 'station') AS counted,
       (SELECT count(*) FROM {{ ref('int_rejected_rows') }}
        WHERE reason_code = 'unknown_station' AND station_id IS NULL
          AND nullif(trim(station_text), '') IS NOT NULL) AS held_back
{%- endmacro %}

{#- station_scorecard reconciliation: every station-month's expected, reported and missing
    days equal what mart_reporting_coverage holds. -#}
{% macro check_scorecard_days_match(part='summary') -%}
WITH coverage AS (
  SELECT station_id, date_trunc('month', day)::DATE AS month, count(*) AS expected,
         count(*) FILTER (WHERE status <> 'MISSING') AS reported,
         count(*) FILTER (WHERE status = 'MISSING') AS missing
  FROM {{ ref('mart_reporting_coverage') }} GROUP BY ALL
),
wrong AS (
  SELECT s.station_id, s.month, s.expected_station_days, c.expected,
         s.reported_station_days, c.reported, s.missing_station_days, c.missing
  FROM {{ ref('station_scorecard') }} AS s
  LEFT JOIN coverage AS c USING (station_id, month)
  WHERE s.expected_station_days <> coalesce(c.expected, 0)
     OR s.reported_station_days <> coalesce(c.reported, 0)
     OR s.missing_station_days <> coalesce(c.missing, 0)
     OR s.reported_station_days + s.missing_station_days <> s.expected_station_days
)
{% if part == 'sample' -%}
SELECT * FROM wrong ORDER BY ALL
{%- else -%}
SELECT count(*) AS mismatched_rows FROM wrong
{%- endif %}
{%- endmacro %}
