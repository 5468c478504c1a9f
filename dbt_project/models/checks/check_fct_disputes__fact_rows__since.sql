{{ check_fact_rows('disputes', 'fct_disputes', 'dispute_key', 'dispute_id', 'station_match',
                   part='since') }}
