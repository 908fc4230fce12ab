"""Naming conventions: snake_case products and ports; contract id `<port-with-dashes>-v<major>`.

A port published in a new major version beside the old one is named `<port>_v<major>`
(see docs/governance.md, *Versioned output ports*); its contract id is `<port-with-dashes>-v<major>`.
"""

from __future__ import annotations

from mesh_platform.governance.naming_scheme import contract_major, expected_contract_id, port_base_and_major
from mesh_platform.governance.policies.where import descriptor_port_problem, port_problem
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.identifiers import SNAKE_CASE


@register
class Naming(Policy):
    name = "naming"
    description = (
        "snake_case product and port names; contract id `<port-with-dashes>-v<major>`; a port "
        "`<port>_v<N>` carries contract major N"
    )

    claims = frozenset({"spec.naming"})

    def check_port(self, ctx, port):
        if not SNAKE_CASE.match(port.name):
            yield descriptor_port_problem(
                port, f"port name {port.name!r} is not snake_case", "name", rule="policy.port_name"
            )
        expected = expected_contract_id(port.name, port.contract.version)
        if port.contract.id != expected:
            yield port_problem(
                port,
                f"contract id {port.contract.id!r} should be {expected!r} "
                f"(port {port.name!r}, contract version {port.contract.version})",
                "id",
                rule="policy.contract_id",
            )
        _, suffix_major = port_base_and_major(port.name)
        major = contract_major(port.contract.version)
        if suffix_major is not None and suffix_major != major:
            yield descriptor_port_problem(
                port,
                f"port {port.name!r} is major version {suffix_major} but its contract "
                f"{port.contract.id!r} is version {port.contract.version}",
                "name",
                rule="policy.port_major",
            )
