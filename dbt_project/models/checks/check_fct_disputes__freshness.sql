{{ check_freshness('disputes', 'fct_disputes', 'reported_on') }}
