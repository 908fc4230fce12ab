"""How a new product reads its input ports in dbt: a staging model per port that reads it with
mesh_input() (the platform generates the port's dbt source from the product's inputPorts,
publishing/input_sources.py) and types it as its contract does."""

from __future__ import annotations

from mesh_platform.mesh.domain import Port
from mesh_platform.scaffold.files import render


def staging_sql(port: Port) -> str:
    lines = []
    for prop in port.schema.properties or []:
        if prop.physicalType:
            lines.append(f"cast({prop.name} as {prop.physicalType}) as {prop.name}")
        else:
            lines.append(prop.name)
    select = ",\n    ".join(lines)
    return render("staging.sql.jinja", port=port.address, contract_id=port.contract.id, select=select)
