{{ check_coverage_status_agrees() }}
