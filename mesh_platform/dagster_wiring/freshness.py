"""A contract's SLA as the Dagster FreshnessPolicy the OSS freshness daemon evaluates.

- time window (``freshness``/``latency``, warn at ``valueExt``) -> FreshnessPolicy.time_window:
  PASS, then WARN after the warn window, FAIL after the fail window;
- daily deadline (``timeOfAvailability: "06:00 Europe/Berlin"``) -> FreshnessPolicy.cron:
  FAIL when no update landed in the window before the last deadline. Dagster's cron policy
  has no warn state.
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.specs.contract import Sla


def freshness_policy(sla: Sla) -> dg.FreshnessPolicy | None:
    if sla.freshness:
        return dg.FreshnessPolicy.time_window(fail_window=sla.freshness, warn_window=sla.freshness_warn)
    if sla.deadline:
        return dg.FreshnessPolicy.cron(deadline_cron=sla.deadline_cron, lower_bound_delta=sla.deadline_window,
                                       timezone=sla.deadline_timezone)
    return None
