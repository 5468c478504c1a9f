{{ check_key_conflicts('inspections', part='sample') }}
