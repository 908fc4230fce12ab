"""Lineage on the Dagster side: which product each dbt model belongs to (the Mesh's walk,
mesh/dbt_lineage.py, so Dagster and the catalog share one graph), and the column lineage
of each model that reads another product's output port (``dagster/column_lineage``), from
the Mesh's column reads (the same sqlglot analysis the breaking-change gate reports).
"""

from __future__ import annotations

import dagster as dg

from mesh_platform.mesh import Mesh
from mesh_platform.mesh.dbt_lineage import SHARED, model_by_name, model_nodes, product_of_models

__all__ = ["SHARED", "model_by_name", "model_nodes", "product_of_models", "column_lineage"]


def column_lineage(mesh: Mesh, domain: str) -> dict[str, dg.TableColumnLineage]:
    """dbt model name -> the columns it derives from the output ports its domain reads (other
    domains' ports through a dbt source, other products' ports of the domain through ref()).
    A model whose SQL cannot be analysed gets none: no lineage rather than a made-up one."""
    deps: dict[str, dict[str, list[dg.TableColumnDep]]] = {}
    for edge in mesh.reads_of(domain):
        if edge.producer is None:
            continue
        for use in mesh.column_uses(edge) or []:
            for column, sources in (use.lineage or {}).items():
                out = deps.setdefault(use.model, {}).setdefault(column, [])
                out += [
                    dg.TableColumnDep(asset_key=edge.producer.asset_key, column_name=c)
                    for c in sorted(sources)
                    if all(d.column_name != c or d.asset_key != edge.producer.asset_key for d in out)
                ]
    return {
        model: dg.TableColumnLineage(deps_by_column={c: d for c, d in by_column.items() if d})
        for model, by_column in deps.items()
        if any(by_column.values())
    }
