{{ check_unknown_stations_counted() }}
