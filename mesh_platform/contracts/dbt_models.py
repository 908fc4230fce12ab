"""The dbt model properties of a domain's output ports, generated from their ODCS contracts.

One source of truth: the ODCS contract. It is what consumers are promised (names, types,
keys, classification, quality rules), what the audit checks before publishing, and what the
breaking-change gate compares; the dbt model contract only has to make the build fail when
the SQL drifts from it. So the port model's columns and types are generated from the contract
(`models/_mesh_ports.yml`, written before every dbt parse, never checked in), with
``access: public`` and ``contract: {enforced: true}``; a domain team writes the SQL and the
ODCS contract, not a second copy of the columns.

Only names and types become dbt constraints of the build: nullability, keys and quality rules
stay the audit's (contracts/compiler.py), so a violating row fails a check that carries the
failing rows, instead of the DDL.
"""

from __future__ import annotations

import re
from typing import Any

from mesh_platform.mesh.domain import Domain, Port

GENERATED_MODELS = "models/_mesh_ports.yml"  # relative to the dbt project

# dbt data_type spellings valid DDL on both DuckDB and BigQuery (DuckDB reads `string` as
# VARCHAR; BigQuery reads `integer` as INT64 and `numeric(p,s)` as a parameterised NUMERIC).
_PORTABLE = {"varchar": "string", "text": "string", "string": "string", "decimal": "numeric", "numeric": "numeric"}
_LOGICAL = {"string": "string", "integer": "integer", "number": "numeric", "date": "date", "boolean": "boolean"}
_TYPE = re.compile(r"^\s*([a-z_ ]+?)\s*(\(.*\))?\s*$", re.I)


def dbt_data_type(physical: str | None, logical: str | None) -> str | None:
    """The port column's dbt data_type: its ODCS physicalType in a spelling both targets accept,
    else its logicalType's; None when the contract gives neither."""
    if physical:
        match = _TYPE.match(physical)
        if match is None:
            return physical
        name, args = match.group(1).lower(), (match.group(2) or "").replace(" ", "")
        return _PORTABLE.get(name, name) + args
    return _LOGICAL.get((logical or "").lower(), logical)


def port_model(port: Port) -> dict[str, Any]:
    columns = []
    for prop in port.schema.properties or []:
        column: dict[str, Any] = {"name": prop.physicalName or prop.name}
        if prop.description:
            column["description"] = prop.description.strip()
        data_type = dbt_data_type(prop.physicalType, prop.logicalType)
        if data_type:
            column["data_type"] = data_type
        columns.append(column)
    description = port.spec.description or port.schema.description or port.contract.purpose or ""
    return {
        "name": port.model,
        "description": f"Output port {port.address} (contract {port.contract.id}). {description}".strip(),
        "config": {"access": "public", "contract": {"enforced": True}},
        "columns": columns,
    }


def models_yaml(domain: Domain) -> dict[str, Any]:
    """Every output port model of the domain (one entry per model, whichever ports share it)."""
    models: dict[str, dict[str, Any]] = {}
    for port in domain.ports():
        models.setdefault(port.model, port_model(port))
    return {"version": 2, "models": list(models.values())}
