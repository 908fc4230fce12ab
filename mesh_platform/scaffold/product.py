"""`mesh new product`: a product built from existing output ports, with everything it needs to
validate and publish: its descriptor, an ODCS contract derived from the input ports' contracts
(column types, classification and value rules carried over; the consumer's own SLA to fill
in), a staging model per input port that reads it with mesh_input() (sources.py; the platform
generates the dbt source), a mart from a template (marts.py) and a usage-agreement request per
input port."""

from __future__ import annotations

from datetime import date

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform.lifecycle import agreement_files
from mesh_platform.lifecycle import states as st
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.domain import Port
from mesh_platform.scaffold.files import Scaffold, ScaffoldError, write_file, write_yaml
from mesh_platform.scaffold.marts import TEMPLATES, Column, mart_for
from mesh_platform.scaffold.sources import staging_sql

CONTRACT_API_VERSION = "v3.1.0"


def new_product(
    mesh: Mesh,
    address: str,
    sources: list[str],
    template: str | None,
    purpose: str,
    today: date,
    group_by: list[str] | None = None,
    join_on: list[str] | None = None,
) -> Scaffold:
    """`join_on`: 'col' or 'first_col=other_col' pairs (default: the columns the ports share by name)."""
    product_address = ProductAddress.try_parse(address)
    if product_address is None:
        raise ScaffoldError(f"expected <domain>.<product> in lower_snake_case, got {address!r}")
    domain_name, name = product_address.domain, product_address.product
    domain = mesh.domain(domain_name)
    if domain is None:
        raise ScaffoldError(f"no domain {domain_name!r} (make one with: mesh new domain {domain_name})")
    if mesh.product(address) is not None or (domain.dir / "products" / name).exists():
        raise ScaffoldError(f"product {address} exists already")
    if not sources:
        raise ScaffoldError("name at least one input port with --from <domain>.<product>.<port>")
    ports = []
    for source in sources:
        port = mesh.port(source)
        if port is None:
            raise ScaffoldError(f"--from {source}: no output port with that address in the mesh")
        if port.product.domain_name == domain_name:
            raise ScaffoldError(f"--from {source}: a port of this domain; inside a domain, ref() its model")
        if not st.port_lifecycle(port).published:
            raise ScaffoldError(f"--from {source}: the port is {st.port_lifecycle(port).state}, not published")
        ports.append(port)
    if len({p.name for p in ports}) != len(ports):
        raise ScaffoldError("two input ports with the same name; read them in separate products")
    template = template or ("join" if len(ports) > 1 else "filter")
    if template not in TEMPLATES:
        raise ScaffoldError(f"--template: expected one of {TEMPLATES}, got {template!r}")
    if template == "join" and len(ports) < 2:
        raise ScaffoldError("--template join needs two or more --from ports")
    if template in ("filter", "aggregate") and len(ports) > 1:
        raise ScaffoldError(f"--template {template} reads one port; use join for {len(ports)}")
    if len(purpose.strip()) < 10:
        raise ScaffoldError("--purpose must say what the product is for (at least a sentence)")

    dbt_dir = domain.dbt_project_dir
    staging = {port.address: f"stg_{name}__{port.name}" for port in ports}
    columns, key, mart_sql = mart_for(template, name, ports, staging, group_by, join_on)

    out = Scaffold()
    product_dir = domain.dir / "products" / name
    contract_id = f"{name.replace('_', '-')}-v1"
    out.files.append(
        write_yaml(product_dir / "dataproduct.yaml", _descriptor(domain, name, ports, contract_id, purpose, template))
    )
    out.files.append(
        write_yaml(
            product_dir / "contracts" / f"{name}.odcs.yaml",
            _contract(domain, name, contract_id, purpose, columns, key, ports),
        )
    )
    for port in ports:
        out.files.append(write_file(dbt_dir / "models" / "staging" / f"{staging[port.address]}.sql", staging_sql(port)))
    out.files.append(write_file(dbt_dir / "models" / "marts" / f"{name}.sql", mart_sql))
    # no dbt properties for the mart: the platform generates them from the contract (contracts/dbt_models.py)

    reloaded = Mesh.load(domain.dir.parent)
    for port in ports:
        out.agreements.append(
            agreement_files.request(reloaded, address, port.address, purpose, today, input_port=port.name)
        )
    return out


def _descriptor(domain, name: str, ports: list[Port], contract_id: str, purpose: str, template: str) -> CommentedMap:
    data = CommentedMap()
    data["apiVersion"] = "v1.0.0"
    data["kind"] = "DataProduct"
    data["id"] = str(ProductAddress(domain.name, name))
    data["name"] = name
    data["domain"] = domain.name
    data["status"] = "active"
    data["version"] = "0.1.0"
    data["description"] = CommentedMap(
        purpose=purpose.strip(),
        usage="Describe who should use it and how.",
        limitations="Inherits the limitations of its input ports: "
        + "; ".join(f"{p.address}: {p.product.spec.description.limitations or 'none stated'}" for p in ports),
    )
    inputs = CommentedSeq()
    for port in ports:
        entry = CommentedMap(name=port.name, contractId=port.contract.id, version=port.spec.version or "1.0.0")
        entry["customProperties"] = CommentedSeq([CommentedMap(property="source", value=str(port.address))])
        inputs.append(entry)
    data["inputPorts"] = inputs
    outputs = CommentedSeq()
    output = CommentedMap(
        name=name,
        version="0.1.0",
        contractId=contract_id,
        description=f"Built from {', '.join(p.address for p in ports)} ({template}).",
    )
    output["customProperties"] = CommentedSeq([CommentedMap(property="dbtModel", value=name)])
    outputs.append(output)
    data["outputPorts"] = outputs
    data["tags"] = CommentedSeq(["scaffolded"])
    props = CommentedSeq()
    props.append(CommentedMap(property="title", value=name.replace("_", " ").capitalize()))
    # Runs when an input port is published; or a cron: {cron: "0 6 * * *", timezone: Europe/Berlin}
    props.append(CommentedMap(property="schedule", value=CommentedMap(trigger="upstream_published")))
    archetype = "aggregate" if template == "aggregate" else "consumer-aligned"
    for prop, value in (("archetype", archetype), ("maturity", "emerging"), ("qualityLevel", "bronze"), ("tier", 3)):
        props.append(CommentedMap(property=prop, value=value))
    data["customProperties"] = props
    data.yaml_set_start_comment(
        f"Product descriptor, scaffolded by `mesh new product` from {', '.join(p.address for p in ports)}.\n"
        "Review the description and the contract's SLA; merge with the agreement requests."
    )
    return data


def _contract(
    domain, name: str, contract_id: str, purpose: str, columns: list[Column], key: list[str], ports: list[Port]
) -> CommentedMap:
    data = CommentedMap()
    data["apiVersion"] = CONTRACT_API_VERSION
    data["kind"] = "DataContract"
    data["id"] = contract_id
    data["name"] = name.replace("_", " ").title()
    data["version"] = "0.1.0"
    data["status"] = "active"
    data["domain"] = domain.name
    data["dataProduct"] = name
    data["description"] = CommentedMap(
        purpose=purpose.strip(), usage="Describe the intended use.", limitations="See the input ports' contracts."
    )
    data["team"] = CommentedMap(
        name=domain.spec.team.name,
        members=CommentedSeq([CommentedMap(username=domain.spec.team.owners[0], role="owner")]),
    )
    props = CommentedSeq()
    props.append(CommentedMap(property="noticePeriod", value="P1M"))
    data["customProperties"] = props
    sla = CommentedSeq()
    sla.append(
        CommentedMap(
            property="freshness", value=24, unit="h", description="TODO: the SLA this team promises its consumers."
        )
    )
    data["slaProperties"] = sla
    data.yaml_set_comment_before_after_key(
        "slaProperties",
        before="The consumer's own SLA: fill in what you promise (your inputs promise: "
        + "; ".join(f"{p.address} {p.contract.sla().describe()}" for p in ports)
        + ")",
    )
    properties = CommentedSeq()
    for column in columns:
        prop = CommentedMap()
        for k, v in column.prop.items():
            prop[k] = v
        properties.append(prop)
    obj = CommentedMap(
        name=name, physicalName=name, physicalType="table", description=purpose.strip(), properties=properties
    )
    if not key:
        obj["dataGranularityDescription"] = "No key carried over from the input ports: describe one row."
    data["schema"] = CommentedSeq([obj])
    data.yaml_set_start_comment(
        f"ODCS contract for {PortAddress(domain.name, name, name)}, derived from "
        + ", ".join(f"{p.address} ({p.contract.id})" for p in ports)
        + ":\ncolumn types, classification and value rules carried over."
    )
    return data
