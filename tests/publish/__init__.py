"""Tests of publishing (pipelines/publish): snapshots and the BI catalog, incremental snapshots,
rollback and its pin, the Dagster publish asset, and readers that keep reading while a publish
is killed at any moment."""
