{{ check_station_daily_reconciliation(part='since') }}
