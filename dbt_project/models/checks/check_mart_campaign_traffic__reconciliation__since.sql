{{ check_campaign_traffic_reconciliation(part='since') }}
