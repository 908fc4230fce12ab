"""Every product has an owner team and a support channel; every output port has a contract."""

from __future__ import annotations

from mesh_platform.governance.policies.where import port_problem, product_problem
from mesh_platform.governance.registry import Policy, register


@register
class ProductOwnership(Policy):
    name = "product-ownership"
    description = "every product has an owner team (with owners) and a support channel consumers can reach"

    def check_product(self, ctx, product):
        team = product.team
        if team is None or not team.name or not team.owners:
            yield product_problem(
                product,
                "no owner team: declare a team with owners in the descriptor or in domain.yaml",
                "team",
                rule="policy.owner_missing",
            )
        if not _support_channels(product):
            yield product_problem(
                product,
                "no support channel: declare `support` (a channel or URL) in the "
                "descriptor or in each output port's contract",
                "support",
                rule="policy.support_missing",
            )


def _support_channels(product) -> list[str]:
    out = []
    for entry in getattr(product.spec, "support", None) or []:
        value = (
            entry.get("channel") or entry.get("url")
            if isinstance(entry, dict)
            else (getattr(entry, "channel", None) or getattr(entry, "url", None))
        )
        if value:
            out.append(value)
    for port in product.ports:
        for entry in port.contract.model.support or []:
            if entry.channel or entry.url:
                out.append(entry.channel or entry.url)
    return out


@register
class PortContract(Policy):
    name = "port-contract"
    description = "every output port has an ODCS contract (found by its contractId) that names the owner team"

    claims = frozenset({"spec.contract_missing", "spec.schema_object_missing"})

    def check_port(self, ctx, port):
        team = port.contract.model.team
        if team is None or (not getattr(team, "name", None) and not isinstance(team, list)):
            yield port_problem(
                port,
                f"contract {port.contract.id!r} names no owner team (`team.name`)",
                "team",
                rule="policy.contract_team_missing",
            )
