{{ check_completeness('traffic') }}
