"""Consumers read other domains' output ports only: the load-time input-port rule (the Mesh's
one validation) reported as a policy. Its problems come from `mesh.validate_domain`; this
policy claims them, so they appear under its name in `mesh lint` and the catalog."""

from __future__ import annotations

from mesh_platform.governance.registry import Policy, register


@register
class ConsumersReadOutputPorts(Policy):
    name = "consumers-read-output-ports"
    description = (
        "a domain reads another domain only through a declared input port on that domain's "
        "published output port (never an internal model, landing file or warehouse)"
    )

    claims = frozenset(
        {
            "mesh.input_port_address",
            "mesh.input_port_target",
            "mesh.input_port_own_domain",
            "mesh.input_port_undeclared",
            "mesh.input_port_location",
            "mesh.input_port_unread",
            "mesh.input_port_contract",
            "mesh.internal_read",
            "mesh.source_product",
            "mesh.python_import",
            "mesh.python_table",
            "mesh.python_inputs",
            # what an input port may read depends on the port's state and the usage agreement
            "lifecycle.unpublished_read",
            "lifecycle.retired_read",
            "agreement.missing",
            "agreement.pending",
            "agreement.not_started",
            "agreement.terminated",
            "agreement.ended",
        }
    )
