"""Alerts that reach the owning team: failed contract checks, failed runs and freshness
state changes, read from the Dagster event log by one cursored sensor per domain (dagster_wiring/alert_sensor.py)."""
