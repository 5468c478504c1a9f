"""Campaign Metrics Warehouse: Dagster code location and the libraries it orchestrates."""
