{{ check_campaign_inspections_reconciliation(part='since') }}
