{{ check_key_conflicts('traffic', part='sample') }}
