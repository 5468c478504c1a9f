{{ check_completeness('disputes', part='sample') }}
