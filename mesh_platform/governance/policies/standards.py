"""Descriptors and contracts are valid against their standards, and every contract rule compiles.

Load problems (a descriptor or contract the standard's JSON schema or our model rejects) are
reported under this policy by the engine unless another policy claims them."""

from __future__ import annotations

from mesh_platform.governance.model import Finding
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.errors import SpecError


@register
class ValidSpecs(Policy):
    name = "valid-specs"
    description = "descriptors valid against ODPS, contracts against ODCS, every contract rule compiles to a check"

    def check_port(self, ctx, port):
        from mesh_platform.contracts.check_specs import compile_contract

        try:
            compile_contract(port.contract, port.model)
        except SpecError as exc:
            for problem in exc.problems:
                yield Finding(f"{problem.field}: {problem.message}" if problem.field else problem.message,
                              problem.file, problem.line, port.product.domain_name, port.product.name, port.name)
