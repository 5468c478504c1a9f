{{ check_completeness('traffic', part='sample') }}
