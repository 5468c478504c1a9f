{{ check_key_conflicts('inspections') }}
