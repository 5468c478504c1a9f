{#- The physical row id of a staging row (DuckDB's rowid): the narrow ranking joins back to the
    full-width row by it. A unit test's input is no table and has no rowid: it overrides this
    macro with a column unique across its fixture rows. -#}
{% macro stg_rowid(alias) -%}
    {{ alias }}.rowid
{%- endmacro %}

{#- A record number as a 64-bit integer (63 bits of its MD5: stable across DuckDB versions,
    unlike hash()), stored by the stg_ and int_ models as _number_hash. A night finds the
    history rows of its numbers by scanning this column, not the number strings (10x city
    traffic: 0.2 s instead of 1.5 s per scan); rows of any other number that shares a hash
    are resolved with them, so deleting by the hash is exact. The top bit is set: every
    value has 19 or 20 digits, never the 18 of an ID number (the personal-data screens). -#}
{% macro number_hash(number) -%}
    (cast(md5_number({{ number }}) >> 65 as ubigint) + cast(9223372036854775808 as ubigint))
{%- endmacro %}

{#- Pre-hook of the stg_ and int_ models: a table built before _number_hash gains the column,
    filled once from its numbers, so the night's model and its delete read it. -#}
{% macro add_number_hash(number) -%}
    {%- if execute and is_incremental() and not has_columns(['_number_hash']) -%}
    alter table {{ this }} add column _number_hash ubigint;
    update {{ this }} set _number_hash = {{ number_hash(number) }}
    {%- endif -%}
{%- endmacro %}

{#- The int_ models' pre-hook: up to this many earlier versions of a night's numbers are
    fetched by an IN filter on rowid (zone maps skip every other row group), not a Bloom
    filter probed in every row group (DuckDB's default threshold is 50). post: its reset. -#}
{% macro rowid_fetch_threshold(reset=false) -%}
    {{ 'reset dynamic_or_filter_threshold' if reset else 'set dynamic_or_filter_threshold = 5000' }}
{%- endmacro %}

{#- Version resolution of an int_ model, as CTEs over its stg_ model (one row per landed
    export row). A record is (station, record number): record numbers are unique only within
    the station (or traffic unit) that issued them. The station is the resolved station_id
    (int_station_lookup); a row whose station text resolves to none keeps its normalised text
    as scope ('?' || station_match), so it stays a record of its own until an alias is added.

    numbers  record numbers (re)resolved this run: every number of a row staged since the last
             resolution (int_watermarks), of a record currently rejected (an alias or spelling
             may have been added), or all when the reference data changed since that
             resolution (or int_watermarks is missing or empty). Every record of a
             number is re-resolved together (the model's unique_key is the number), so
             conflicts across stations are decided on all of them.
    current_rows  the current versions of those numbers, full width, with their stg_ rowid.
             On a night (incremental) materialised: a few thousand rows, and the staging
             table (every year of history) is scanned once instead of once per use (five
             scans cost int_traffic ~10 s of a 10x-history night). On a full build not
             materialised (it is every current row). On a night with a mark, read in two
             parts: the rows staged since the mark (a range on _staged_at: zone maps skip
             the history), and the earlier versions of the same numbers by rowid, found by a
             narrow scan of the integer _number_hash column (current_ids; macro
             number_hash). Fetched by a semi join with the numbers instead, every column of
             every row group was decoded for the Bloom filter's false positives (10x city
             traffic: 3.3 s; 1.4 s in two parts). The rowid fetch prunes row groups only
             while DuckDB turns the join's few rowids into an IN filter: the models raise
             dynamic_or_filter_threshold for that (macro rowid_fetch_threshold).
    repeated numbers with more than one current version, at one station or several. Most
             numbers have one (10 M of 10.16 M on the city bench): they are their record's
             winner as they are, and only the repeated ones are ranked. Ranking all of them
             with a window (one sort of every row) cost city traffic 12 s, a hash aggregate
             on (scope, number) 17 s (it spills); counting numbers once costs 2 s.
    winners  the winning version of each record of a repeated number (narrow, by DuckDB
             rowid), ranked by latest_export_order; landed_versions and last_landed_at.
    batch    the winning version of every record, full width (the unrepeated rows and the
             winners), with record_key (scope, ':' and the number) and the station lookup's
             candidates, joined once for both.
    shared_numbers  numbers claimed by more than one station: the only ones key_conflicts
             needs to look at.
    gone     numbers with no current version left (every export of them was replaced by a
             version of its path without them): the model writes a tombstone, deleted by its
             post-hook, so delete+insert removes their old rows. The model's unique_key is
             _number_hash: a number that only shares a hash with the night's numbers is
             resolved again too (current_ids), so the delete by hash removes only rows the
             model writes again (a number loses its last current row only by restaging: it is
             then one of the night's numbers). -#}

{#- The scope of a record number: its station, or '?' and the station text that resolved to
    none. -#}
{% macro record_scope(station_id, station_match) -%}
    coalesce({{ station_id }}, '?' || coalesce({{ station_match }}, ''))
{%- endmacro %}

{% macro resolve_versions(staging_model, number, station_match='station_match') -%}
{%- set stg = ref(staging_model) -%}
{%- set since = none -%}
{%- if execute and is_incremental() -%}
    {%- set marks = adapter.get_relation(database=this.database, schema=this.schema,
                                         identifier='int_watermarks') -%}
    {%- if marks is not none -%}
        {#- read when the model runs (its parents are built): the mark becomes a literal, so
            DuckDB's zone maps skip the row groups staged before it. A mark from before
            int_watermarks kept the reference hash: compare with the model's rows, once. -#}
        {%- set has_hash = 'reference_hash' in
            (adapter.get_columns_in_relation(marks) | map(attribute='name') | list) -%}
        {%- set mark -%}
            select cast(m.staged_through as varchar)
            from {{ marks }} m, {{ ref('int_reference_version') }} r
            where m.staging_model = '{{ staging_model }}' and m.staged_through is not null
                and {% if has_hash -%} m.reference_hash = r.reference_hash
                {%- else -%} not exists (select 1 from {{ this }} t
                                         where t._reference_hash <> r.reference_hash)
                {%- endif %}
        {%- endset -%}
        {%- set rows = run_query(mark).rows -%}
        {%- if rows | length == 1 -%}{%- set since = rows[0][0] -%}{%- endif -%}
    {%- endif -%}
{%- endif -%}
numbers as (
    {%- if is_incremental() %}
    select distinct {{ number }} as number
    from {{ stg }}
    {%- if since is not none %}
    where _staged_at > timestamp '{{ since }}'
    {%- endif %}
    union
    select {{ number }} from {{ this }} where is_rejected
    {%- else %}
    select distinct {{ number }} as number from {{ stg }} where _is_current
    {%- endif %}
),
{%- if since is not none %}
number_hashes as materialized (
    select distinct {{ number_hash('number') }} as h from numbers
),
current_ids as materialized (  -- narrow: the current rows of the numbers, staged since or not
    select {{ stg_rowid('s') }} as rid,
        coalesce(s._staged_at > timestamp '{{ since }}', false) as staged_since
    from {{ stg }} s
    where s._is_current and s._number_hash in (select h from number_hashes)
),
current_rows as materialized (
    select {{ stg_rowid('s') }} as _stg_rowid, s.*
    from {{ stg }} s
    where s._is_current and s._staged_at > timestamp '{{ since }}'
    union all
    select {{ stg_rowid('s') }} as _stg_rowid, s.*
    from {{ stg }} s
    where {{ stg_rowid('s') }} in (select rid from current_ids where not staged_since)
),
{%- else %}
current_rows as {{ 'materialized' if is_incremental() else 'not materialized' }} (
    select {{ stg_rowid('s') }} as _stg_rowid, s.*
    from {{ stg }} s
    where s._is_current
    {%- if is_incremental() %}
        and s.{{ number }} in (select number from numbers)
    {%- endif %}
),
{%- endif %}
repeated as materialized (
    select {{ number }} as number
    from current_rows
    group by {{ number }}
    having count(*) > 1
),
versions as (
    select
        s._stg_rowid as stg_rowid,
        s.{{ number }} as number,
        {{ record_scope('lk.station_id', 's.' ~ station_match) }} as scope,
        lk.station_id,
        s.exported_at, s.source_file, s.source_sheet, s.source_line, s.first_seen_at
    from current_rows s
    left join {{ ref('int_station_lookup') }} lk on lk.station_match = s.{{ station_match }}
    where s.{{ number }} in (select number from repeated)
),
winners as materialized (
    select stg_rowid, number, station_id, landed_versions, last_landed_at
    from (
        select
            stg_rowid,
            number,
            station_id,
            row_number() over (partition by scope, number order by {{ latest_export_order() }})
                as version_rank,
            count(*) over (partition by scope, number) as landed_versions,
            max(first_seen_at) over (partition by scope, number) as last_landed_at
        from versions
    )
    where version_rank = 1
),
batch as not materialized (
    select
        r.*,
        {{ record_scope('lk.station_id', 'r.' ~ station_match) }} || ':' || r.{{ number }}
            as record_key,
        lk.station_id,
        lk.candidate_count as station_candidate_count,
        lk.candidates as station_candidates
    from (
        select c.* exclude (_stg_rowid), cast(1 as bigint) as landed_versions,
            c.first_seen_at as last_landed_at
        from current_rows c anti join repeated on c.{{ number }} = repeated.number
        union all
        select s.* exclude (_stg_rowid), w.landed_versions, w.last_landed_at
        from current_rows s
        join winners w on s._stg_rowid = w.stg_rowid
    ) r
    left join {{ ref('int_station_lookup') }} lk on lk.station_match = r.{{ station_match }}
),
shared_numbers as (
    select number from winners
    where station_id is not null
    group by number
    having min(station_id) <> max(station_id)
),
gone as (
    {%- if is_incremental() %}
    select number, {{ number_hash('number') }} as _number_hash from numbers
    where number not in (select {{ number }} from current_rows)
    {%- else %}
    select cast(null as varchar) as number, cast(null as ubigint) as _number_hash where false
    {%- endif %}
)
{%- endmacro %}

{#- Records of different stations that share a record number and, by the evidence, are the
    same record (a re-export under another station after a rename or merge): the first claim
    in (exported_at, source_file, source_sheet, source_line) order keeps it, every later one
    is held back with reason key_conflict, naming the first claim's station, file and line.
    Only numbers in shared_numbers (resolve_versions) can conflict: the evidence is computed
    for those rows alone.
    `evidence` is an expression over `relation` that is NULL when the record carries too
    little to tell (docs/architecture.md, "Record identity"). Columns: record_key,
    conflict_problem. -#}
{% macro key_conflicts(relation, number, evidence, what) -%}
    select
        record_key,
        'record number ' || {{ number }} || ' was first exported by station ' || first_station
            || ' (' || first_file || coalesce(' sheet ' || first_sheet, '') || ' line '
            || first_line || ') with the same {{ what }}: held back as a probable re-export'
            as conflict_problem
    from (
        select
            record_key, {{ number }},
            row_number() over claims as claim,
            first_value(station_id) over claims as first_station,
            first_value(source_file) over claims as first_file,
            first_value(source_sheet) over claims as first_sheet,
            first_value(source_line) over claims as first_line
        from (select *, {{ evidence }} as evidence from {{ relation }}
              where station_id is not null
                  and {{ number }} in (select number from shared_numbers))
        where evidence is not null
        window claims as (partition by {{ number }}, evidence
                          order by exported_at, source_file, source_sheet nulls first,
                                   source_line)
    )
    where claim > 1
{%- endmacro %}

{#- Why a station text did not resolve (NULL when it did). -#}
{% macro station_problem(text_col, match_col, station_col, candidates_col, candidate_list_col) -%}
    case
        when {{ station_col }} is not null then null
        when {{ match_col }} is null or {{ match_col }} = '' then 'station is empty'
        when coalesce({{ candidates_col }}, 0) > 1 then
            'ambiguous station ''' || {{ text_col }} || ''' (matches ' || {{ candidate_list_col }} || ')'
        else 'unknown station ''' || {{ text_col }} || ''''
    end
{%- endmacro %}

{#- Unmapped raw values of a record, one message for all its fields (NULL when none).
    fields: list of (field name, raw text column, normalised column, code column, required).
    A required field that is empty is unmapped too; an optional empty field has no code. -#}
{% macro unmapped_problem(fields) -%}
    nullif(concat_ws('; '
    {%- for name, text_col, match_col, code_col, required in fields %},
        case
            when {{ match_col }} is null or {{ match_col }} = '' then
                {{ "'" ~ name ~ " is empty'" if required else "null" }}
            when {{ code_col }} is null then 'unmapped {{ name }} ''' || {{ text_col }} || ''''
        end
    {%- endfor %}), '')
{%- endmacro %}

{#- Campaign attribution: a record belongs to a campaign when its date is within
    [starts_on, ends_on], the campaign lists its record type and the unit is in scope
    ('all', or the station's city / bureau / province / id). The earliest start wins, a tie
    goes to the smallest campaign_id. The campaign depends only on (station, date), so it is
    decided once per distinct pair (thousands) and joined back to the records (millions):
    ranking the wide record rows themselves cost a full sort.
    Selects every column of `relation` plus campaign_id. `relation` is read twice: declare
    it `as not materialized`, else DuckDB materialises the wide CTE (much slower on city
    traffic: bench/RESULTS.md, city entry of b410182). -#}
{% macro attribute_campaigns(record_type, relation, station_col, date_col) -%}
    select r.*, cd.campaign_id
    from {{ relation }} r
    left join (
        select d.station_id, d.on_date, c.campaign_id
        from (select distinct {{ station_col }} as station_id, {{ date_col }} as on_date
              from {{ relation }}) d
        left join {{ ref('int_stations') }} stn on stn.station_id = d.station_id
        left join {{ ref('int_campaign_scope') }} c
            on c.record_type = '{{ record_type }}'
            and d.on_date between c.starts_on and c.ends_on
            and (c.scope_level = 'all'
                or (c.scope_level = 'city' and c.scope_value = stn.city)
                or (c.scope_level = 'bureau' and c.scope_value = stn.bureau_name)
                or (c.scope_level = 'province' and c.scope_value = stn.province)
                or (c.scope_level = 'station' and c.scope_value = stn.station_id))
        qualify row_number() over (partition by d.station_id, d.on_date
                                   order by c.starts_on nulls last, c.campaign_id nulls last) = 1
    ) cd
        on cd.station_id is not distinct from r.{{ station_col }}
        and cd.on_date is not distinct from r.{{ date_col }}
{%- endmacro %}
