"""A product's declared time partitions as Dagster partitions, and a run's partition range.

Every asset of a partitioned product shares one `DailyPartitionsDefinition`; backfills run
a whole range in one run (`BackfillPolicy.single_run`), which dbt builds in one incremental
statement. The range reaches dbt as environment variables (`MESH_PARTITION_START`, inclusive,
and `MESH_PARTITION_END`, exclusive; mesh_partitions.sql), not `--vars`: dbt throws its partial
parse away whenever the command line's vars change, which made every day's run parse the whole
project again, while a changed env var re-parses only the models that read it. A run over every
partition is a full refresh.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import dagster as dg

from mesh_platform.specs.partitioning import Partitioning


@cache
def partitions_def(partitioning: Partitioning) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=partitioning.start.isoformat(),
        end_date=partitioning.end.isoformat() if partitioning.end else None,
        timezone="UTC",
    )


@dataclass(frozen=True)
class RunRange:
    start: dt.date  # inclusive
    end: dt.date  # exclusive
    everything: bool  # the run covers every partition: rebuild from scratch

    @property
    def window(self) -> tuple[dt.date, dt.date] | None:
        """What publishing and checks scope to: None when the run rebuilds everything."""
        return None if self.everything else (self.start, self.end)

    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.everything else []

    def dbt_env(self) -> dict[str, str]:
        return {"MESH_PARTITION_START": self.start.isoformat(), "MESH_PARTITION_END": self.end.isoformat()}

    def describe(self) -> str:
        last = self.end - dt.timedelta(days=1)
        return str(self.start) if last == self.start else f"{self.start}..{last}"


def run_range(context: dg.AssetExecutionContext, definition: dg.DailyPartitionsDefinition) -> RunRange:
    # the window from the product's own definition: a run of checks alone selects no asset,
    # and Dagster then knows the run's keys but not their time window
    keys = context.partition_key_range
    window = dg.TimeWindow(
        definition.time_window_for_partition_key(keys.start).start,
        definition.time_window_for_partition_key(keys.end).end,
    )
    everything = keys.start == definition.get_first_partition_key() and keys.end == definition.get_last_partition_key()
    return RunRange(start=window.start.date(), end=window.end.date(), everything=everything)


def all_partitions_range(definition: dg.DailyPartitionsDefinition) -> dg.PartitionKeyRange:
    first, last = definition.get_first_partition_key(), definition.get_last_partition_key()
    if first is None or last is None:
        raise LookupError("the product has no complete partition yet (its start is in the future)")
    return dg.PartitionKeyRange(first, last)


ALL = "all"  # `mesh materialize --partition all`: every partition, a full refresh


def catch_up_range(definition: dg.DailyPartitionsDefinition, materialised: list[set[str]]) -> dg.PartitionKeyRange:
    """What brings a product up to date: from the first partition that one of its assets has
    not materialised through the newest partition (one run; dbt replaces that range), or the
    newest alone when nothing is missing (today's run, as the schedule does)."""
    keys = definition.get_partition_keys()
    if not keys:
        raise LookupError("the product has no complete partition yet (its start is in the future)")
    done = set.intersection(*materialised) if materialised else set()
    first_missing = next((k for k in keys if k not in done), keys[-1])
    return dg.PartitionKeyRange(first_missing, keys[-1])


def parse_partition_arg(text: str, definition: dg.DailyPartitionsDefinition) -> dg.PartitionKeyRange:
    """`2025-12-31`, or a range `2025-12-01...2025-12-31` (inclusive), checked against the set."""
    start, sep, end = text.partition("...")
    end = end if sep else start
    keys = definition.get_partition_keys()
    for key in (start, end):
        if key not in keys:
            raise LookupError(
                f"partition {key!r} is not one of the product's partitions "
                f"({keys[0] if keys else '-'} .. {keys[-1] if keys else '-'}, daily, YYYY-MM-DD)"
            )
    if end < start:
        raise LookupError(f"partition range {text!r} ends before it starts")
    return dg.PartitionKeyRange(start, end)
