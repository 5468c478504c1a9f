{#- Rows of a stg_ model that an incremental int_ model (re)resolves in this run:
    - records staged since the last resolution (new or corrected exports),
    - records currently rejected (an alias or crosswalk spelling may have been added),
    - every record when the reference data fingerprint changed (int_reference_version).
    The models declare their `batch` CTE `as not materialized`: it is read through `resolved`,
    which campaign attribution reads twice, and DuckDB materialises a CTE with two readers
    (int_traffic on 10 M city rows: 8 GB spilled; 24 s → 8 s into a temporary table). -#}
{% macro resolution_batch(staging_model, key) -%}
    select s.*
    from {{ ref(staging_model) }} s
    {% if is_incremental() %}
    where s._staged_at > {{ watermark('_staged_at') }}
        or s.{{ key }} in (select {{ key }} from {{ this }} where is_rejected)
        or (select coalesce(bool_or(_reference_hash <> (
                select reference_hash from {{ ref('int_reference_version') }})), false)
            from {{ this }})
    {% endif %}
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
    it `as not materialized`, else DuckDB materialises the wide CTE (int_traffic on 10 M
    city rows: 32 s materialised, 7 s read twice). -#}
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
