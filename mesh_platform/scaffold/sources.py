"""How a new product reads its input ports in dbt: a source per port (reused when the domain
already reads the port, else written) and a staging model that types it as its contract does."""

from __future__ import annotations

from pathlib import Path

import yaml as pyyaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform.mesh.address import PortAddress
from mesh_platform.scaffold.files import render, write_yaml
from mesh_platform.specs.loader import Port


def input_sources(dbt_dir: Path, ports: list[Port], new_file: Path) -> dict[str, tuple[str, str]]:
    """(source name, table) per port: an existing dbt source reading the port, else a new one."""
    existing: dict[str, tuple[str, str]] = {}
    for file in sorted((dbt_dir / "models").rglob("*.yml")):
        try:
            doc = pyyaml.safe_load(file.read_text()) or {}
        except pyyaml.YAMLError:
            continue
        for source in doc.get("sources") or []:
            for table in source.get("tables") or []:
                meta = {
                    **((source.get("config") or {}).get("meta") or {}),
                    **(source.get("meta") or {}),
                    **((table.get("config") or {}).get("meta") or {}),
                    **(table.get("meta") or {}),
                }
                if meta.get("mesh_input_port"):
                    existing[str(meta["mesh_input_port"])] = (source["name"], table["name"])
    out: dict[str, tuple[str, str]] = {}
    new_sources = CommentedSeq()
    for port in ports:
        if port.address in existing:
            out[port.address] = existing[port.address]
            continue
        source_name = f"{port.product.domain_name}__{port.product.name}"
        out[port.address] = (source_name, port.name)
        table = CommentedMap(name=port.name, description=f"Output port {port.address} (contract {port.contract.id}).")
        domain, product = port.product.domain_name, port.product.name
        tail = PortAddress.parse(port.address).read_tail(partitioned=port.product.partitioning is not None)
        table["config"] = CommentedMap(
            meta=CommentedMap(
                mesh_input_port=port.address,
                external_location=f"read_parquet('{{{{ env_var('MESH_DATA_DIR', '../../data') }}}}/{tail}')",
            )
        )
        source = CommentedMap(
            name=source_name,
            description=f"Domain {domain}'s product {product}, read through its published port.",
            schema=f"{{{{ env_var('MESH_BQ_DATASET_{domain.upper()}', '{domain}') }}}}",
            tables=CommentedSeq([table]),
        )
        new_sources.append(source)
    if new_sources:
        data = CommentedMap(version=2, sources=new_sources)
        data.yaml_set_start_comment(
            "Input ports: other domains' output ports, read only through their "
            "published snapshots (scaffolded by `mesh new product`)."
        )
        write_yaml(new_file, data)
    return out


def staging_sql(port: Port, source: tuple[str, str]) -> str:
    lines = []
    for prop in port.schema.properties or []:
        if prop.physicalType:
            lines.append(f"cast({prop.name} as {prop.physicalType}) as {prop.name}")
        else:
            lines.append(prop.name)
    select = ",\n    ".join(lines)
    return render(
        "staging.sql.jinja",
        port=port.address,
        contract_id=port.contract.id,
        select=select,
        source=source[0],
        table=source[1],
    )
