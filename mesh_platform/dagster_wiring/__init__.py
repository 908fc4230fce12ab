"""Dagster wiring: a domain folder becomes assets, checks, schedules and metadata."""
