{{ check_key_conflicts('traffic') }}
