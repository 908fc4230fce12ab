"""Consumers read other domains' output ports only: the load-time input-port rule as a policy.

Needs the domain's dbt manifest (its sources); without one the policy has nothing to judge."""

from __future__ import annotations

from mesh_platform.governance.model import Finding
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.errors import SpecError


@register
class ConsumersReadOutputPorts(Policy):
    name = "consumers-read-output-ports"
    description = "a domain reads another domain only through a declared input port on a published output port"

    def check_product(self, ctx, product):
        # Validated per domain; reported once, on the domain's first product.
        domain = next(d for d in ctx.domains if d.name == product.domain_name)
        if product is not domain.products[0]:
            return
        manifest = ctx.manifest(domain)
        if manifest is None:
            return
        from mesh_platform.dagster_wiring.input_ports import validate_input_ports
        from mesh_platform.dagster_wiring.python_assets import build_python_assets, load_product_tables

        project_name = manifest.get("metadata", {}).get("project_name") or domain.dbt_project_dir.name
        try:
            python_assets = build_python_assets(domain, load_product_tables(domain))
            validate_input_ports(domain, manifest, project_name, python_assets)
        except SpecError as exc:
            for problem in exc.problems:
                owner = _product_of(domain, problem.file) or product.name
                yield Finding(f"{problem.field}: {problem.message}" if problem.field else problem.message,
                              problem.file, problem.line, domain.name, owner)


def _product_of(domain, file) -> str | None:
    for product in domain.products:
        if file and str(file).startswith(str(product.dir)):
            return product.name
    return None
