{{ check_fact_rows('inspections', 'fct_inspections', 'inspection_key', 'inspection_id',
                   'station_match', part='since') }}
