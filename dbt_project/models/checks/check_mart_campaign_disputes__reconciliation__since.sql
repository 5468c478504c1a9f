{{ check_campaign_disputes_reconciliation(part='since') }}
