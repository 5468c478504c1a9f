{#- The SQL the great-expectations suites of the fact tables validate (models/checks/, named by
    expectations/fct_*.batches.yml). Each macro renders one frame: the small summary GE
    validates (part='summary'), or the rows that explain a failure (part='sample', shown in
    the report). Arguments name the record type's landing table, staging model, fact model,
    key and record number. -#}

{#- The blocking reconciliation of a fact table: fact rows = distinct records landed (station,
    record number) - records whose latest version the models rejected; staged rows = landed
    rows = the ledger's rows_landed, over the file versions that count (ledger status loaded).
    part='summary' reads every record and version; part='since' only the record numbers
    restaged or re-resolved since the validated run (macro validated_through: the fact rows'
    stamp the runner binds), every rejected number, the versions restaged since and the
    whole-table counts of staged rows and the ledger: the models change a record only by
    restaging its number (a new _staged_at) or resolving it again (a new _resolved_at), they
    restage every row of a version together, and landing only appends, so the records and
    versions outside those are the ones the validated run reconciled. part='sample' lists the
    failing records. -#}
{% macro check_fact_rows(record_type, fact_model, key_column, number, match_column,
                         part='summary') -%}
{%- set since = part == 'since' -%}
{%- set counted_versions = 'checked_versions' if since else 'versions' -%}
{%- set staged = ref('stg_' ~ record_type) -%}
{%- set mark = 'CAST(' ~ validated_through() ~ ' AS TIMESTAMP)' -%}
WITH versions AS (  -- the file versions that count
  SELECT file_version_id, path, sha256, first_seen_at, rows_landed
  FROM {{ source('ops', 'file_ledger') }}
  WHERE record_type = '{{ record_type }}' AND status = 'loaded'
),
{%- if since %}
checked_versions AS MATERIALIZED (  -- those restaged since the validated run
  SELECT * FROM versions WHERE file_version_id IN (
    SELECT _file_version_id FROM {{ staged }}
    WHERE _staged_at > {{ mark }})
),
{%- endif %}
current AS (  -- their landed rows
  SELECT 1 FROM {{ source('landing', record_type) }} AS l
  JOIN {{ counted_versions }} AS v
    ON v.path = l._source_path AND v.sha256 = l._file_sha256
    -- equal by construction (landing copies the ledger's); the join's range of it lets the
    -- scan skip the row groups of older versions (10x city traffic, a night: 0.01 s, against
    -- 1.1 s for every loaded version)
    AND v.first_seen_at = l._first_seen_at
),
{%- if since %}
touched AS MATERIALIZED (  -- numbers restaged, re-resolved or rejected since the validated run
  SELECT number, {{ number_hash('number') }} AS h FROM (
    SELECT {{ number }} AS number FROM {{ staged }}
    WHERE _staged_at > {{ mark }}
    UNION ALL
    SELECT {{ number }} FROM {{ ref(fact_model) }}
    WHERE _resolved_at > {{ mark }}
    UNION ALL
    SELECT record_id FROM {{ ref('int_rejected_rows') }} WHERE record_type = '{{ record_type }}'
  )
  -- HAVING (always true) lowers DuckDB's estimate of this set below the fact table's, so the
  -- joins below hash the night's numbers, not the history (10x city: 1.2 s instead of 13 s)
  GROUP BY number HAVING count(*) > 0
),
{%- endif %}
landed AS (  -- distinct records (station, record number) staged from those rows
  SELECT DISTINCT coalesce(lk.station_id, '?' || coalesce(s.{{ match_column }}, ''))
      || ':' || s.{{ number }} AS k
  {%- if since %}
  -- the current rows of touched numbers in two parts, as the int_ models read them (macro
  -- resolve_versions): those staged since (a range: zone maps skip the history) and the
  -- earlier ones by rowid, found through the integer hash column. The runner raises
  -- dynamic_or_filter_threshold so those few rowids prune row groups. 10x city traffic, a
  -- night: 0.2 s; every touched rowid in one filter, 1.4 s; a join on the number strings, 1.5 s
  FROM (
    SELECT {{ match_column }}, {{ number }} FROM {{ staged }}
    WHERE _is_current AND _staged_at > {{ mark }}
    UNION ALL
    SELECT {{ match_column }}, {{ number }} FROM {{ staged }}
    WHERE _is_current AND _staged_at <= {{ mark }}
      AND rowid IN (SELECT rowid FROM {{ staged }}
                    WHERE _number_hash IN (SELECT h FROM touched)
                      AND _staged_at <= {{ mark }})
  ) AS s
  LEFT JOIN {{ ref('int_station_lookup') }} AS lk ON lk.station_match = s.{{ match_column }}
  WHERE s.{{ number }} IN (SELECT number FROM touched)
  {%- else %}
  FROM {{ staged }} AS s
  LEFT JOIN {{ ref('int_station_lookup') }} AS lk ON lk.station_match = s.{{ match_column }}
  WHERE s._is_current
  {%- endif %}
),
rejected AS (  -- records whose latest version the models rejected
  SELECT DISTINCT record_key AS k FROM {{ ref('int_rejected_rows') }}
  WHERE record_type = '{{ record_type }}'
),
facts AS (
  SELECT f.{{ key_column }} AS k FROM {{ ref(fact_model) }} AS f
  {%- if since %}
  -- the facts of touched numbers are the facts resolved since: every record of a restaged or
  -- rejected number is resolved again with it. A fact the models failed to resolve again
  -- is missing here, and the counts disagree. (A range: zone maps skip the history.)
  WHERE f._resolved_at > {{ mark }}
  {%- endif %}
)
{% if part == 'sample' -%}
SELECT k AS {{ key_column }}, 'landed, not rejected, missing from {{ fact_model }}' AS problem
FROM (SELECT k FROM landed EXCEPT SELECT k FROM rejected EXCEPT SELECT k FROM facts)
UNION ALL
SELECT k, 'in {{ fact_model }} although its latest version was rejected'
FROM (SELECT k FROM facts INTERSECT SELECT k FROM rejected)
UNION ALL
SELECT k, 'in {{ fact_model }}, never landed'
FROM (SELECT k FROM facts EXCEPT SELECT k FROM landed)
ORDER BY ALL
{%- else -%}
SELECT (SELECT count(*) FROM current) AS landed_rows,
       (SELECT count(*) FROM {{ staged }} WHERE _is_current
        {%- if since %} AND _staged_at > {{ mark }}{% endif %})
           AS staged_rows,
       (SELECT coalesce(sum(rows_landed), 0) FROM {{ counted_versions }})
           AS ledger_rows,
       (SELECT count(*) FROM {{ staged }} WHERE _is_current)
           AS staged_rows_all,
       (SELECT coalesce(sum(rows_landed), 0) FROM versions) AS ledger_rows_all,
       (SELECT count(*) FROM landed) AS landed_records,
       (SELECT count(*) FROM rejected) AS rejected_records,
       (SELECT count(*) FROM landed) - (SELECT count(*) FROM rejected)
           AS expected_fact_rows,
       (SELECT count(*) FROM facts) AS fact_rows
       {%- if since %},
       (SELECT count(*) FROM touched) AS numbers_checked{% endif %}
{%- endif %}
{%- endmacro %}

{#- key_conflicts (warning): records held back as another station's record. -#}
{% macro check_key_conflicts(record_type, part='summary') -%}
{% if part == 'sample' -%}
SELECT record_key, source_path, sheet, line_number, message
FROM {{ ref('int_rejected_rows') }}
WHERE record_type = '{{ record_type }}' AND reason_code = 'key_conflict'
ORDER BY source_path, sheet, line_number
{%- else -%}
SELECT count(*) AS held_back_records FROM {{ ref('int_rejected_rows') }}
WHERE record_type = '{{ record_type }}' AND reason_code = 'key_conflict'
{%- endif %}
{%- endmacro %}

{#- completeness: MISSING station-days of the reporting calendar in the refresh window (the
    completeness_window_days ending at the calendar's last day). -#}
{% macro check_completeness(record_type, part='summary') -%}
WITH calendar AS (  -- the expected station-days of the reporting calendar
  SELECT station_id, station_name, day, status
  FROM {{ ref('mart_reporting_coverage') }} WHERE record_type = '{{ record_type }}'
),
bounds AS (
  SELECT max(day) AS last_day,
         max(day) - ({{ check_threshold('completeness_window_days') }} - 1) AS first_day
  FROM calendar
),
expected AS (
  SELECT c.* FROM calendar AS c, bounds AS b
  WHERE c.day BETWEEN b.first_day AND b.last_day
),
missing AS (SELECT * FROM expected WHERE status = 'MISSING')
{% if part == 'sample' -%}
SELECT station_id, station_name, day AS missing_day FROM missing
ORDER BY day, station_id
{%- else -%}
SELECT (SELECT first_day FROM bounds) AS window_start,
       (SELECT last_day FROM bounds) AS window_end,
       (SELECT count(DISTINCT station_id) FROM expected) AS expected_stations,
       (SELECT count(*) FROM expected) AS expected_station_days,
       (SELECT count(*) FROM expected) - (SELECT count(*) FROM missing)
           AS received_station_days,
       (SELECT count(*) FROM missing) AS missing_station_days,
       coalesce((SELECT count(*) FROM missing)
                / nullif((SELECT count(*) FROM expected), 0), 0) AS missing_ratio
{%- endif %}
{%- endmacro %}

{#- volume_vs_trailing_median (warning): station-days of the refresh window whose row count is
    outside [volume_min_ratio, volume_max_ratio] x the station's trailing 7-day median.
    `day_column` is a DATE or TIMESTAMP column: only the window's rows are counted, read
    through a range on it (10x city traffic: 0.25 s, against 2.2 s for every day's count). -#}
{% macro check_volume(fact_model, station_column, day_column, part='summary') -%}
WITH bounds AS (
  SELECT max({{ day_column }})::DATE AS last_day,
         max({{ day_column }})::DATE - ({{ check_threshold('completeness_window_days') }} - 1)
             AS first_day
  FROM {{ ref(fact_model) }}
),
daily AS (  -- the window and the 7 days before it
  SELECT {{ station_column }} AS station_id, {{ day_column }}::DATE AS day, count(*) AS n
  FROM {{ ref(fact_model) }}
  WHERE {{ day_column }} >= (SELECT first_day - 7 FROM bounds)
  GROUP BY ALL
),
stations AS (
  SELECT DISTINCT d.station_id FROM daily AS d, bounds AS b
  WHERE d.day BETWEEN b.first_day - 7 AND b.last_day
),
grid AS (
  SELECT s.station_id, g.day FROM stations AS s,
    (SELECT unnest(generate_series(first_day - 7, last_day, INTERVAL 1 DAY))::DATE AS day
     FROM bounds) AS g
),
scored AS (
  SELECT g.station_id, g.day, coalesce(d.n, 0) AS n,
         median(coalesce(d.n, 0)) OVER (PARTITION BY g.station_id ORDER BY g.day
             ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING) AS trailing_median
  FROM grid AS g LEFT JOIN daily AS d USING (station_id, day)
),
judged AS (
  SELECT s.*, s.n / s.trailing_median AS ratio
  FROM scored AS s, bounds AS b
  WHERE s.day BETWEEN b.first_day AND b.last_day AND s.trailing_median > 0
),
flagged AS (
  SELECT * FROM judged
  WHERE ratio < {{ check_threshold('volume_min_ratio') }}
     OR ratio > {{ check_threshold('volume_max_ratio') }}
)
{% if part == 'sample' -%}
SELECT f.station_id, s.station_name, f.day, f.n AS rows_that_day,
       f.trailing_median, round(f.ratio, 3) AS ratio
FROM flagged AS f LEFT JOIN {{ ref('dim_station') }} AS s USING (station_id)
ORDER BY f.day, f.station_id
{%- else -%}
SELECT (SELECT count(*) FROM judged) AS station_days_judged,
       (SELECT count(*) FROM flagged) AS flagged_station_days,
       (SELECT min(ratio) FROM judged) AS min_ratio,
       (SELECT max(ratio) FROM judged) AS max_ratio
{%- endif %}
{%- endmacro %}

{#- freshness (warning): days between the newest data day and the reporting calendar's last
    expected day (today while a period is open). -#}
{% macro check_freshness(record_type, fact_model, day_expression) -%}
WITH expected AS (  -- the calendar's last expected day: today while a period is open
  SELECT max(coalesce(expected_to, current_date)) AS through
  FROM {{ ref('int_reporting_expectations') }} WHERE record_type = '{{ record_type }}'
)
SELECT max({{ day_expression }}) AS newest_day,
       coalesce((SELECT through FROM expected), current_date) AS expected_through,
       coalesce((SELECT through FROM expected), current_date) - max({{ day_expression }})
           AS age_days
FROM {{ ref(fact_model) }}
{%- endmacro %}
