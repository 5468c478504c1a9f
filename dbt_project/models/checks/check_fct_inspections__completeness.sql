{{ check_completeness('inspections') }}
