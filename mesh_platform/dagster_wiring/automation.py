"""Declarative automation for products that run when an upstream output port is published.

A descriptor with ``schedule: {trigger: upstream_published}`` gets, on every asset of the
product, a condition that becomes true once any of its input ports (the producers'
published output-port assets) has a new materialisation -- which the platform records
only after the producer's contract passed and its snapshot went live. All of the product's
assets turn true on the same tick, so the whole product runs once, in one run, after its
inputs; a chain of consumers refreshes in order. The domain's automation-condition sensor
is on by default and tags its runs with the domain (the run queue limits one per domain).
"""

from __future__ import annotations

from functools import reduce

import dagster as dg

from mesh_platform.mesh.address import PortAddress
from mesh_platform.specs.loader import Domain, Product

LABEL = "upstream_published"


def input_port_keys(product: Product) -> list[dg.AssetKey]:
    """The asset keys of the upstream output ports a product reads: [domain, product, port]."""
    return [PortAddress.parse(port.source).asset_key for port in product.spec.inputPorts]


def upstream_published(inputs: list[dg.AssetKey]) -> dg.AutomationCondition:
    """True once any input has been published since this asset was last requested or updated,
    while no input is missing or being rebuilt and this asset is not already running."""
    AC = dg.AutomationCondition
    published = reduce(lambda a, b: a | b, [AC.asset_matches(k, AC.newly_updated()) for k in inputs])
    missing = reduce(lambda a, b: a | b, [AC.asset_matches(k, AC.missing()) for k in inputs])
    running = reduce(lambda a, b: a | b, [AC.asset_matches(k, AC.in_progress()) for k in inputs])
    return (
        published.since_last_handled() & ~missing & ~running & ~AC.in_progress()
    ).with_label(LABEL)


def product_automation_condition(domain: Domain, product_name: str) -> dg.AutomationCondition | None:
    """The condition for an asset of `product_name`, or None when the product runs on a cron."""
    product = next((p for p in domain.products if p.name == product_name), None)
    if product is None or product.spec.schedule is None or not product.spec.schedule.on_upstream:
        return None
    return upstream_published(input_port_keys(product))


def automation_sensor(domain: Domain) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the domain's automation conditions; running by default, runs tagged with the domain."""
    return dg.AutomationConditionSensorDefinition(
        name=f"{domain.name}__automation",
        target=dg.AssetSelection.key_prefixes([domain.name]),
        default_status=dg.DefaultSensorStatus.RUNNING,
        run_tags={"domain": domain.name, "launched_by": "automation"},
        description=f"Runs {domain.name} products whose descriptor says "
                    "'schedule: {trigger: upstream_published}' when an input port is published",
    )
