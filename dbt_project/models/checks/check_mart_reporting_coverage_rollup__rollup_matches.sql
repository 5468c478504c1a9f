{{ check_coverage_rollup_matches() }}
