{{ check_completeness('disputes') }}
