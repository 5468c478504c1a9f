{{ check_volume('fct_traffic_violations', 'unit_id', 'occurred_at') }}
