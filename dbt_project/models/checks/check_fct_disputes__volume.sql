{{ check_volume('fct_disputes', 'station_id', 'reported_on') }}
