{{ check_volume('fct_inspections', 'station_id', 'inspected_on') }}
