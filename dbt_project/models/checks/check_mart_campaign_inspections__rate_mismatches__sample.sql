{{ check_rate_mismatches('mart_campaign_inspections',
    ['campaign_id', 'level', 'unit_name', 'venue_type_code'], [
    ('rectification_rate', 'hazards_rectified', 'hazards_found'),
], part='sample') }}
