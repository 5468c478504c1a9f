{{ check_rate_mismatches('mart_station_daily', ['station_id', 'day'], [
    ('rectification_rate', 'hazards_rectified', 'hazards_found'),
    ('resolution_rate', 'disputes_resolved', 'disputes_found'),
    ('mediation_success_rate', 'mediation_successes', 'mediations'),
]) }}
