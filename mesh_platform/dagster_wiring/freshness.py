"""A contract's SLA as the Dagster FreshnessPolicy the OSS freshness daemon evaluates, and the
data time a run measured.

- time window (``freshness``/``latency``, warn at ``valueExt``) -> FreshnessPolicy.time_window:
  PASS, then WARN after the warn window, FAIL after the fail window;
- daily deadline (``timeOfAvailability: "06:00 Europe/Berlin"``) -> FreshnessPolicy.cron:
  FAIL when no update landed in the window before the last deadline. Dagster's cron policy
  has no warn state.

The daemon judges when a port was *published*. Where the contract names the time column
(``slaProperties`` ``element``), the run also measures the newest value of that column (the
contract's ``freshness`` check) and records it on the materialisation as
``dagster/last_updated_timestamp`` -- Dagster's key for when the data was last updated -- so
the catalog judges the data, not the publication (catalog/observed.py).
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.contracts.model import CheckOutcome, data_time
from mesh_platform.specs.contract import Sla

DATA_TIME = "dagster/last_updated_timestamp"  # when the data is current up to (Dagster's own key)
NEWEST = "freshness/newest"  # the newest value of the SLA's column, as measured


def freshness_policy(sla: Sla) -> dg.FreshnessPolicy | None:
    if sla.freshness:
        return dg.FreshnessPolicy.time_window(fail_window=sla.freshness, warn_window=sla.freshness_warn)
    if sla.deadline:
        return dg.FreshnessPolicy.cron(
            deadline_cron=sla.deadline_cron, lower_bound_delta=sla.deadline_window, timezone=sla.deadline_timezone
        )
    return None


def data_time_metadata(outcomes: list[CheckOutcome]) -> dict[str, dg.MetadataValue]:
    """The data time the run's freshness check measured, as materialisation metadata (empty when
    the contract names no time column, or the port has no rows)."""
    for outcome in outcomes:
        if outcome.spec.rule == "freshness" and outcome.newest is not None:
            return {
                DATA_TIME: dg.MetadataValue.timestamp(data_time(outcome.newest)),
                NEWEST: dg.MetadataValue.text(f"{outcome.spec.columns[0]} {outcome.newest}"),
            }
    return {}
