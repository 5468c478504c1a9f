{{ check_key_conflicts('disputes') }}
