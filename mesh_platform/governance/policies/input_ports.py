"""Consumers read other domains' output ports only: the load-time input-port rule (the Mesh's
one validation) reported as a policy. Its problems come from `mesh.validate_domain`; this
policy claims them, so they appear under its name in `mesh lint` and the catalog."""

from __future__ import annotations

from mesh_platform.governance.registry import Policy, register

ASSETS_FILE = "assets.py"


@register
class ConsumersReadOutputPorts(Policy):
    name = "consumers-read-output-ports"
    description = (
        "a domain reads another domain only through a declared input port on that domain's "
        "published output port (never an internal model, landing file or warehouse)"
    )

    def claims(self, problem) -> bool:
        field = problem.field or ""
        return (
            field.startswith("source ")
            or "mesh_input(" in field  # a dbt model's read: `<models>: mesh_input('<address>')`
            or field.startswith("inputPorts[")
            or getattr(problem.file, "name", "") == ASSETS_FILE
        )
