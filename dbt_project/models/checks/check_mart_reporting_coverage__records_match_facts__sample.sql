{{ check_coverage_records_match_facts(part='sample') }}
