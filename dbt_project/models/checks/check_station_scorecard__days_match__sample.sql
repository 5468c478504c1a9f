{{ check_scorecard_days_match(part='sample') }}
