{{ check_freshness('inspections', 'fct_inspections', 'inspected_on') }}
