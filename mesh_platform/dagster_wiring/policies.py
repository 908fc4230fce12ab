"""Cross-cutting policies, applied once over a domain's built asset specs.

The translator and the Python-table builder say *what* an asset is (key, owners, tags,
metadata); the platform's policies -- when it runs and how fresh it must be -- are applied
here, over every spec of the location at once, with `Definitions.map_asset_specs`:

- automation: every asset of a product whose descriptor says ``trigger: upstream_published``
  gets the product's upstream-published condition (cron products: their schedule runs them);
- freshness: every output port gets the FreshnessPolicy of its contract's SLA.
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.dagster_wiring.automation import product_automation_condition
from mesh_platform.dagster_wiring.freshness import freshness_policy
from mesh_platform.dagster_wiring.preview_apis import map_asset_specs
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.mesh.domain import Domain


def apply_policies(defs: dg.Definitions, mesh: Mesh, domain: Domain) -> dg.Definitions:
    def policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        path = spec.key.path
        if len(path) != 3 or path[0] != domain.name:
            return spec
        attrs = {}
        condition = product_automation_condition(domain, path[1])
        if condition is not None:
            attrs["automation_condition"] = condition
        port = mesh.port(PortAddress(*path))
        if port is not None:
            attrs["freshness_policy"] = freshness_policy(port.contract.sla())
        return spec.replace_attributes(**attrs) if attrs else spec

    return map_asset_specs(defs, policy)
