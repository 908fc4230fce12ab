"""A schedule per product from its descriptor: run the product's assets and their checks.

A product whose descriptor says ``schedule: {trigger: upstream_published}`` gets no cron
schedule: declarative automation (see automation.py) runs it when an input port is published.
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.dagster_wiring.partitions import partitions_def
from mesh_platform.mesh.domain import Product


def product_selection(domain_name: str, product: Product) -> dg.AssetSelection:
    """Everything keyed under [domain, product, ...], with the checks on those assets."""
    return dg.AssetSelection.key_prefixes([domain_name, product.name])


def product_job(domain_name: str, product: Product) -> dg.UnresolvedAssetJobDefinition:
    """A partitioned product's job runs for a partition range: its models, views and
    incremental ones, all take the product's partitions (domain_assets.py)."""
    return dg.define_asset_job(
        name=f"{domain_name}__{product.name}",
        selection=product_selection(domain_name, product),
        description=f"Build, audit and publish {product.address}",
        tags={"domain": domain_name, "product": product.name},
    )


def product_schedule(
    domain_name: str, product: Product, job: dg.UnresolvedAssetJobDefinition
) -> dg.ScheduleDefinition | None:
    schedule = product.spec.schedule
    if schedule is None or schedule.on_upstream:
        return None
    if product.partitioning is not None:
        return _partitioned_schedule(domain_name, product, job)
    return dg.ScheduleDefinition(
        name=f"{domain_name}__{product.name}__schedule",
        job=job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"From {product.file.name}: '{schedule.cron}' ({schedule.timezone})",
        tags={"domain": domain_name, "product": product.name},
    )


def _partitioned_schedule(
    domain_name: str, product: Product, job: dg.UnresolvedAssetJobDefinition
) -> dg.ScheduleDefinition:
    """On the cron, build the newest complete partition (yesterday, for daily partitions)."""
    schedule = product.spec.schedule
    definition = partitions_def(product.partitioning)

    @dg.schedule(
        name=f"{domain_name}__{product.name}__schedule",
        job=job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"From {product.file.name}: '{schedule.cron}' ({schedule.timezone}), "
        "the newest complete daily partition",
        tags={"domain": domain_name, "product": product.name},
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        keys = definition.get_partition_keys(current_time=context.scheduled_execution_time)
        if not keys:
            return dg.SkipReason("no complete partition yet")
        key = keys[-1]
        return dg.RunRequest(run_key=key, partition_key=key)

    return _schedule
