"""Every contract promises timeliness (a freshness or time-of-availability SLA) and at least one
quality rule."""

from __future__ import annotations

from mesh_platform.governance.policies.where import port_problem
from mesh_platform.governance.registry import Policy, register

TIMELINESS = ("freshness", "latency", "timeofavailability")


@register
class ContractSla(Policy):
    name = "contract-sla"
    description = "every contract has a freshness (or latency / timeOfAvailability) SLA"

    def check_port(self, ctx, port):
        props = [(p.property or "").lower() for p in port.contract.model.slaProperties or []]
        if not any(p in TIMELINESS for p in props):
            yield port_problem(
                port,
                f"contract {port.contract.id!r} declares no freshness or timeOfAvailability "
                f"SLA (slaProperties: {props or 'none'})",
                "slaProperties",
                rule="policy.sla_missing",
            )


@register
class ContractQuality(Policy):
    name = "contract-quality"
    description = "every contract defines at least one quality rule on the port's schema"

    def check_port(self, ctx, port):
        obj = port.schema
        rules = len(obj.quality or []) + sum(len(p.quality or []) for p in obj.properties or [])
        if rules == 0:
            yield port_problem(
                port,
                f"schema {obj.name!r} of contract {port.contract.id!r} has no quality rule",
                "quality",
                rule="policy.quality_missing",
            )
