"""Drive Dagster's own asset daemon (the one `dagster dev` runs), one iteration at a time, over a
code location loaded from a Python file: it evaluates the automation-condition sensors and
submits the runs they request, exactly as `dagster-daemon` does."""

from __future__ import annotations

import dagster as dg
from dagster._daemon.asset_daemon import AssetDaemon

__all__ = ["run_automation_sensors"]


def run_automation_sensors(context) -> None:
    """One iteration of the asset daemon (sensors whose minimum interval has passed tick)."""
    instance: dg.DagsterInstance = context.instance
    AssetDaemon(settings=instance.get_auto_materialize_settings(), pre_sensor_interval_seconds=0)._run_iteration_impl(
        context, threadpool_executor=None, amp_tick_futures={}, debug_crash_flags={}
    )


HOOKS: dict = {}  # name -> callable: what a test does while one of its assets is being built


def hook(name: str) -> None:
    if name in HOOKS:
        HOOKS[name]()
