{{ check_fact_rows('traffic', 'fct_traffic_violations', 'ticket_key', 'ticket_id', 'unit_match',
                   part='since') }}
