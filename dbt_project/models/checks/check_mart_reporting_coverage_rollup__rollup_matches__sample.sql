{{ check_coverage_rollup_matches(part='sample') }}
