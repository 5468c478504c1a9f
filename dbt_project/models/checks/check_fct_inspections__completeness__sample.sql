{{ check_completeness('inspections', part='sample') }}
