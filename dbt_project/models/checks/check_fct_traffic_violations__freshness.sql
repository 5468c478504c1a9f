{{ check_freshness('traffic', 'fct_traffic_violations', 'occurred_at::DATE') }}
