"""Declarative automation for products that run when an upstream output port is published.

A descriptor with ``schedule: {trigger: upstream_published}`` gets, on every asset of the
product, a condition that becomes true once any of its input ports (the producers'
published output-port assets) has a new materialisation -- which the platform records
only after the producer's contract passed and its snapshot went live. All of the product's
assets turn true on the same tick, so the whole product runs once, in one run, after its
inputs; a chain of consumers refreshes in order. The domain's automation-condition sensor
is on by default and tags its runs with the domain (the run queue limits one per domain).

Automation and every other run agree (`mesh materialize`, the UI, schedules): a run of any of
them is a run in the instance's run storage whose planned assets Dagster counts as in
progress. So the condition waits while a run builds this product's ports or the input ports
it reads (the other ports of a producer live in another code location: naming them would
stop this domain's automation whenever that location fails to load). And it acts a tick
after the publication and after the last such run ended, not on those ticks: `mesh
materialize` starts the consumer's run right after the producer's ends, and that run (in
progress, then handled) takes the tick's place instead of a duplicate -- as long as it starts
within a tick (30 s).
"""

from __future__ import annotations

from functools import reduce

import dagster as dg

from mesh_platform.mesh.address import PortAddress
from mesh_platform.mesh.domain import Domain, Product

LABEL = "upstream_published"


def input_port_keys(product: Product) -> list[dg.AssetKey]:
    """The asset keys of the upstream output ports a product reads: [domain, product, port]."""
    return [PortAddress.parse(port.source).asset_key for port in product.spec.inputPorts]


def _any(keys, condition: dg.AutomationCondition) -> dg.AutomationCondition:
    return reduce(lambda a, b: a | b, [dg.AutomationCondition.asset_matches(k, condition) for k in keys])


def upstream_published(inputs: list[dg.AssetKey], in_flight: list[dg.AssetKey] = ()) -> dg.AutomationCondition:
    """True once any input has been published since this asset was last requested or updated,
    while no input is missing, this asset is not running, and no input nor any of `in_flight`
    (the producers' and this product's ports) is being built by any run -- settled for a tick:
    not on the tick that sees the publication, nor on the one that sees the last run end."""
    AC = dg.AutomationCondition
    published = _any(inputs, AC.newly_updated())
    missing = _any(inputs, AC.missing())
    running = _any(list(dict.fromkeys([*inputs, *in_flight])), AC.in_progress())
    settled = ~published & ~(~running).newly_true()
    return (published.since_last_handled() & settled & ~missing & ~running & ~AC.in_progress()).with_label(LABEL)


def in_flight_ports(product: Product) -> list[dg.AssetKey]:
    """The output ports whose runs the product waits for: its own and the input ports it reads.
    Only keys the product's own assets name (itself, its deps): a condition naming an asset of
    another location that failed to load would stop the domain's whole automation sensor."""
    own = [PortAddress(product.domain_name, product.name, port.name).asset_key for port in product.ports]
    return own + input_port_keys(product)


def product_automation_condition(domain: Domain, product_name: str) -> dg.AutomationCondition | None:
    """The condition for an asset of `product_name`, or None when the product runs on a cron."""
    product = next((p for p in domain.products if p.name == product_name), None)
    if product is None or product.spec.schedule is None or not product.spec.schedule.on_upstream:
        return None
    return upstream_published(input_port_keys(product), in_flight_ports(product))


def automation_sensor(domain: Domain, minimum_interval_seconds: int = 30) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the domain's automation conditions; running by default, runs tagged with the
    domain. One tick every `minimum_interval_seconds` (Dagster's default, 30)."""
    return dg.AutomationConditionSensorDefinition(
        name=f"{domain.name}__automation",
        minimum_interval_seconds=minimum_interval_seconds,
        target=dg.AssetSelection.key_prefixes([domain.name]),
        default_status=dg.DefaultSensorStatus.RUNNING,
        run_tags={"domain": domain.name, "launched_by": "automation"},
        description=f"Runs {domain.name} products whose descriptor says "
        "'schedule: {trigger: upstream_published}' when an input port is published",
    )
