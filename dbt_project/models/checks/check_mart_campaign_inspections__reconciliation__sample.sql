{{ check_campaign_inspections_reconciliation(part='sample') }}
