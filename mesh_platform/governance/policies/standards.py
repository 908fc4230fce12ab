"""Descriptors and contracts are valid against their standards, and every contract rule compiles.

Load problems (a descriptor or contract the standard's JSON schema or our model rejects) are
reported under this policy by the engine unless another policy claims them."""

from __future__ import annotations

from mesh_platform.governance.registry import Policy, register


@register
class ValidSpecs(Policy):
    name = "valid-specs"
    description = "descriptors valid against ODPS, contracts against ODCS, every contract rule compiles to a check"
    # Everything it checks is in the Mesh's one validation (mesh.validate_domain), which the
    # engine runs first: descriptors and contracts load and validate, every contract rule compiles,
    # every port has its dbt model.
