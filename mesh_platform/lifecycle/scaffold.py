"""`mesh new product` and `mesh new domain`: start from what works.

A new product built from existing output ports gets everything it needs to validate and
publish: its descriptor, an ODCS contract derived from the input ports' contracts (column
types, classification and value rules carried over; the consumer's own SLA to fill in),
dbt sources for the input ports (reused when the domain already reads the port), one
staging model per input port, a mart from a template (filter, aggregate, join), and a
usage-agreement request per input port. A new domain gets domain.yaml, definitions.py, a
dbt project with dev (DuckDB) and prod (BigQuery) profiles, and its workspace.yaml entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform import settings
from mesh_platform.lifecycle import agreement_files, yaml_edit
from mesh_platform.lifecycle import states as st
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.domain import Port
from mesh_platform.safe_paths import inside

TEMPLATES = ("filter", "aggregate", "join")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYISH = re.compile(r"(_id|_sk|_key|_number|_code)$|^(id|lei)$")
CONTRACT_API_VERSION = "v3.1.0"


class ScaffoldError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    """A column of the new product's output port, traced to the input port it comes from."""

    name: str
    source: str  # the input port's staging model
    expression: str
    prop: dict[str, Any]  # the ODCS property for the new contract


@dataclass
class Scaffold:
    files: list[Path] = field(default_factory=list)
    agreements: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# Domains
# ------------------------------------------------------------------------------------------
def new_domain(
    name: str, team: str | None = None, owners: list[str] | None = None, description: str | None = None
) -> Scaffold:
    if not _NAME.match(name):
        raise ScaffoldError(f"expected a lower_snake_case domain name, got {name!r}")
    domain_dir = settings.domains_dir() / name
    dbt_dir = settings.dbt_projects_dir() / name
    for path in (domain_dir, dbt_dir):
        if path.exists():
            raise ScaffoldError(f"{path} exists already")
    title = name.replace("_", " ").title()
    owners = owners or [f"team:{name}"]
    out = Scaffold()
    domain = CommentedMap()
    domain["name"] = name
    domain["description"] = description or f"The {title} domain (describe what it owns)."
    domain["team"] = CommentedMap(name=team or f"{title} Team", owners=CommentedSeq(owners))
    domain["alerts"] = CommentedMap(
        channel=f"#{name.replace('_', '-')}-data-alerts", webhook_env=f"{name.upper()}_ALERTS_WEBHOOK_URL"
    )
    domain.yaml_set_start_comment(f"The {name} domain: who owns it and where its alerts go.")
    out.files.append(_write_yaml(domain_dir / "domain.yaml", domain))
    out.files.append(_write(domain_dir / "definitions.py", DEFINITIONS.format(name=name)))
    out.files.append(_write(domain_dir / "products" / ".gitkeep", ""))
    out.files.append(_write(dbt_dir / "dbt_project.yml", DBT_PROJECT.format(name=name)))
    out.files.append(_write(dbt_dir / "profiles.yml", PROFILES.format(name=name, upper=name.upper())))
    for layer in ("staging", "intermediate", "marts"):
        out.files.append(_write(dbt_dir / "models" / layer / ".gitkeep", ""))
    out.files.append(_add_location(name))
    return out


def _add_location(name: str) -> Path:
    workspace = settings.repo_root() / "workspace.yaml"
    data = yaml_edit.load(workspace)
    entries = data.setdefault("load_from", CommentedSeq())
    if any(e.get("python_file", {}).get("location_name") == name for e in entries):
        return workspace
    entry = CommentedMap()
    entry["python_file"] = CommentedMap(
        relative_path=f"domains/{name}/definitions.py", location_name=name, working_directory="."
    )
    entries.append(entry)
    yaml_edit.write(workspace, data)
    return workspace


# ------------------------------------------------------------------------------------------
# Products
# ------------------------------------------------------------------------------------------
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
    columns, key, mart_sql = _template(template, name, ports, staging, group_by, join_on)

    out = Scaffold()
    product_dir = domain.dir / "products" / name
    contract_id = f"{name.replace('_', '-')}-v1"
    out.files.append(
        _write_yaml(product_dir / "dataproduct.yaml", _descriptor(domain, name, ports, contract_id, purpose, template))
    )
    out.files.append(
        _write_yaml(
            product_dir / "contracts" / f"{name}.odcs.yaml",
            _contract(domain, name, contract_id, purpose, columns, key, ports),
        )
    )
    for port in ports:
        out.files.append(_write(dbt_dir / "models" / "staging" / f"{staging[port.address]}.sql", _staging_sql(port)))
    out.files.append(_write(dbt_dir / "models" / "marts" / f"{name}.sql", mart_sql))
    # no dbt properties for the mart: the platform generates them from the contract (contracts/dbt_models.py)

    reloaded = Mesh.load(domain.dir.parent)
    for port in ports:
        out.agreements.append(
            agreement_files.request(reloaded, address, port.address, purpose, today, input_port=port.name)
        )
    return out


def _template(
    template: str,
    name: str,
    ports: list[Port],
    staging: dict[str, str],
    group_by: list[str] | None,
    join_on: list[str] | None,
) -> tuple[list[Column], list[str], str]:
    if template == "filter":
        port = ports[0]
        columns = [_carried(port, p, staging[port.address]) for p in port.schema.properties or []]
        key = _key(port)
        select = ",\n    ".join(c.name for c in columns)
        sql = (
            f"-- {name}: rows of {port.address} this product needs.\n"
            f"-- Narrow the rows in the where clause; the contract in domains/.../contracts/ lists the columns.\n"
            f"select\n    {select}\nfrom {{{{ ref('{staging[port.address]}') }}}}\nwhere true\n"
        )
        return columns, key, sql
    if template == "aggregate":
        return _aggregate(name, ports[0], staging[ports[0].address], group_by)
    return _join(name, ports, staging, join_on)


def _aggregate(name: str, port: Port, model: str, group_by: list[str] | None):
    props = {p.name: p for p in port.schema.properties or []}
    sensitive = set(st.sensitive_columns(port))
    if group_by:
        missing = [c for c in group_by if c not in props]
        if missing:
            raise ScaffoldError(
                f"--group-by {', '.join(missing)}: not columns of {port.address} (columns: {', '.join(props)})"
            )
        dims = list(group_by)
    else:
        dates = [n for n, p in props.items() if (p.logicalType or "") == "date"]
        dims = (
            dates[:1]
            or [
                n
                for n, p in props.items()
                if (p.logicalType or "") == "string" and n not in sensitive and not p.unique and not p.primaryKey
            ][:1]
        )
        if not dims:
            raise ScaffoldError(f"{port.address} has no date or plain text column to group by: use --group-by")
    columns = [
        _carried(port, props[d], model, key_position=i + 1 if props[d].required else None) for i, d in enumerate(dims)
    ]
    key = dims if all(props[d].required for d in dims) else []
    columns.append(
        Column(
            "row_count",
            model,
            "count(*)",
            {
                "name": "row_count",
                "logicalType": "integer",
                "physicalType": "bigint",
                "required": True,
                "description": f"Rows of {port.address} in the group.",
            },
        )
    )
    for col, prop in props.items():
        logical = (prop.logicalType or "").lower()
        if (
            col in dims
            or col in sensitive
            or logical not in ("number", "integer")
            or _KEYISH.search(col)
            or prop.primaryKey
            or col.endswith("line_number")
        ):
            continue
        scale = _scale(prop.physicalType)
        physical = (
            f"decimal(38,{scale})"
            if logical == "number" and scale is not None
            else ("double" if logical == "number" else "bigint")
        )
        columns.append(
            Column(
                f"total_{col}",
                model,
                f"cast(sum({col}) as {physical})",
                {
                    "name": f"total_{col}",
                    "logicalType": logical,
                    "physicalType": physical,
                    "description": f"Sum of {port.address}.{col} in the group.",
                },
            )
        )
    select = ",\n    ".join(f"{c.expression} as {c.name}" if c.expression != c.name else c.name for c in columns)
    sql = (
        f"-- {name}: {port.address} aggregated by {', '.join(dims)}.\n"
        f"select\n    {select}\nfrom {{{{ ref('{model}') }}}}\ngroup by {', '.join(dims)}\n"
    )
    return columns, key, sql


def _join(name: str, ports: list[Port], staging: dict[str, str], join_on: list[str] | None):
    first = ports[0]
    first_props = {p.name: p for p in first.schema.properties or []}
    columns = [_carried(first, p, "l") for p in first.schema.properties or []]
    key = _key(first)
    joins, taken = [], set(first_props)
    for i, port in enumerate(ports[1:], start=1):
        props = {p.name: p for p in port.schema.properties or []}
        if join_on:
            pairs = [tuple(item.split("=", 1)) if "=" in item else (item, item) for item in join_on]
            bad = [f"{a}={b}" for a, b in pairs if a not in first_props or b not in props]
            if bad:
                raise ScaffoldError(
                    f"--join-on {', '.join(bad)}: expected <{first.name} column>=<{port.name} column> "
                    f"(columns: {', '.join(first_props)} / {', '.join(props)})"
                )
        else:
            pairs = [
                (c, c)
                for c in props
                if c in first_props and (props[c].logicalType or "") == (first_props[c].logicalType or "")
            ]
            # Prefer the other port's key when the ports share it: lei, not parent_lei.
            keyed = [(a, b) for a, b in pairs if b in set(_key(port))]
            pairs = keyed or pairs
        on = [b for _, b in pairs]
        if not pairs:
            raise ScaffoldError(
                f"{first.address} and {port.address} share no column of the same name and type "
                "to join on; scaffold with --template filter per port and join them in SQL"
            )
        alias = f"r{i}"
        right_key = set(_key(port)) or {c for c, p in props.items() if p.unique}
        if not right_key or not right_key <= set(on):
            key = []  # a row of the first port may match several: its key no longer identifies a row
        for col, prop in props.items():
            if col in on:
                continue
            out_name = col if col not in taken else f"{port.name}__{col}"
            taken.add(out_name)
            carried = _carried(port, prop, alias, optional=True)
            columns.append(Column(out_name, alias, f"{alias}.{col}", {**carried.prop, "name": out_name}))
        joins.append(
            f"left join {{{{ ref('{staging[port.address]}') }}}} as {alias}\n    on "
            + " and ".join(f"{alias}.{b} = l.{a}" for a, b in pairs)
        )
    columns = [
        Column(
            c.name,
            c.source,
            f"l.{c.name}" if c.source == "l" else c.expression,
            {k: v for k, v in c.prop.items() if key or k not in ("primaryKey", "primaryKeyPosition", "unique")},
        )
        for c in columns
    ]
    select = ",\n    ".join(
        c.expression if c.expression.endswith(f".{c.name}") else f"{c.expression} as {c.name}" for c in columns
    )
    sql = (
        f"-- {name}: {first.address} with "
        + ", ".join(p.address for p in ports[1:])
        + " joined on their shared columns.\n"
        f"select\n    {select}\nfrom {{{{ ref('{staging[first.address]}') }}}} as l\n" + "\n".join(joins) + "\n"
    )
    return columns, key, sql


def _carried(port: Port, prop, model: str, key_position: int | None = None, optional: bool = False) -> Column:
    """An input column as an output column: type, classification and value rules carried over."""
    out: dict[str, Any] = {"name": prop.name}
    for attr in ("logicalType", "physicalType", "classification"):
        if getattr(prop, attr):
            out[attr] = getattr(prop, attr)
    out["description"] = f"From {port.address}.{prop.name}" + (f": {prop.description}" if prop.description else ".")
    if prop.required and not optional:
        out["required"] = True
    if key_position is not None:
        out.update(primaryKey=True, primaryKeyPosition=key_position)
    elif prop.primaryKey and not optional:
        out.update(primaryKey=True, primaryKeyPosition=prop.primaryKeyPosition or 1)
        if prop.unique:
            out["unique"] = True
    if prop.logicalTypeOptions:
        out["logicalTypeOptions"] = dict(prop.logicalTypeOptions)
    if prop.tags:
        out["tags"] = list(prop.tags)
    return Column(prop.name, model, prop.name, out)


def _key(port: Port) -> list[str]:
    return [
        p.name
        for p in sorted(
            (p for p in port.schema.properties or [] if p.primaryKey), key=lambda p: p.primaryKeyPosition or 0
        )
    ]


def _scale(physical: str | None) -> int | None:
    match = re.match(r"^\s*(decimal|numeric)\s*\(\s*\d+\s*,\s*(\d+)\s*\)", physical or "", re.I)
    return int(match.group(2)) if match else None


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


def _staging_sql(port: Port) -> str:
    """The port read with mesh_input(): the platform generates its dbt source from the inputPorts."""
    lines = []
    for prop in port.schema.properties or []:
        if prop.physicalType:
            lines.append(f"cast({prop.name} as {prop.physicalType}) as {prop.name}")
        else:
            lines.append(prop.name)
    select = ",\n    ".join(lines)
    return (
        f"-- {port.address}, as its contract ({port.contract.id}) types it.\n"
        f"select\n    {select}\nfrom {{{{ mesh_input('{port.address}') }}}}\n"
    )


def _write(path: Path, text: str) -> Path:
    inside(settings.repo_root(), path)  # names come from the command line and the mesh
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _write_yaml(path: Path, data: Any) -> Path:
    inside(settings.repo_root(), path)
    yaml_edit.write(path, data)
    return path


DEFINITIONS = '''"""The {name} domain's Dagster code location: everything comes from this folder's YAML."""

from pathlib import Path

from mesh_platform import build_domain_definitions

defs = build_domain_definitions(Path(__file__).parent)
'''

DBT_PROJECT = """name: {name}
version: "1.0.0"
config-version: 2
require-dbt-version: [">=1.10.0", "<2.0.0"]

profile: {name}

model-paths: ["models"]
macro-paths: ["macros", "../../mesh_platform/dbt_macros"]  # the platform's macros (mesh_input, partitioned products)
test-paths: ["tests"]
target-path: target
clean-targets: ["target", "dbt_packages"]

models:
  {name}:
    staging:
      +materialized: view
    intermediate:
      +materialized: view
    marts:
      +materialized: table

data_tests:
  {name}:
    +severity: warn
"""

PROFILES = """# Always invoked with `--profiles-dir` = this directory.
# dev  -> local DuckDB file under $MESH_DATA_DIR/warehouse.
# prod -> BigQuery; every setting comes from env vars (defaults exist only so that
#         `dbt parse` works offline).
{name}:
  target: "{{{{ env_var('MESH_TARGET', 'dev') }}}}"
  outputs:
    dev:
      type: duckdb
      path: "{{{{ env_var('MESH_DATA_DIR', '../../data') }}}}/warehouse/{name}.duckdb"
      threads: 1
    prod:
      type: bigquery
      method: oauth
      project: "{{{{ env_var('MESH_BQ_PROJECT', 'unset-project') }}}}"
      dataset: "{{{{ env_var('MESH_BQ_DATASET_{upper}', '{name}') }}}}"
      location: "{{{{ env_var('MESH_BQ_LOCATION', 'EU') }}}}"
      threads: 4
"""
