"""Run Dagster's own freshness daemon iteration against a code location, at a chosen time.

The daemon evaluates each asset's FreshnessPolicy and writes a FRESHNESS_STATE_CHANGE
event when the state changes; `dagster._core.test_utils.freeze_time` is Dagster's own way
to set the clock its evaluators (and event timestamps) read, so a product can miss a 24h
window without a test waiting 24 hours.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.definitions.freshness import FreshnessStateChange
from dagster._core.event_api import EventRecordsFilter
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon

__all__ = ["freeze_time", "workspace", "evaluate_freshness", "freshness_changes"]


@contextmanager
def workspace(instance: dg.DagsterInstance, python_file: Path, location_name: str, working_directory: Path):
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            python_file=str(python_file),
            attribute="defs",
            working_directory=str(working_directory),
        ),
        location_name=location_name,
    )
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as context:
        yield context


def evaluate_freshness(context) -> None:
    """One iteration of the freshness daemon, exactly as `dagster-daemon` runs it."""
    list(FreshnessDaemon(interval_seconds=0).run_iteration(context))


def freshness_changes(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[FreshnessStateChange]:
    records = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=dg.DagsterEventType.FRESHNESS_STATE_CHANGE, asset_key=key), ascending=True
    )
    return [r.event_log_entry.dagster_event.event_specific_data for r in records]
