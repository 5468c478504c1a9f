{{ check_key_conflicts('disputes', part='sample') }}
