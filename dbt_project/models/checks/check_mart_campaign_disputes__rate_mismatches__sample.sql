{{ check_rate_mismatches('mart_campaign_disputes',
    ['campaign_id', 'level', 'unit_name', 'source_code'], [
    ('resolution_rate', 'disputes_resolved', 'disputes_found'),
    ('mediation_success_rate', 'mediation_successes', 'mediations'),
], part='sample') }}
