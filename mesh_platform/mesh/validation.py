"""The one validation of the mesh: `mesh validate` and every code location run exactly this.

Whatever a code location would refuse, `mesh validate` reports first, as
``file:line: field: message``, and the reverse. Checks, per domain:

- its YAML loads (descriptor, contracts; see specs/) and every contract compiles to checks;
- its dbt manifest exists and has a model for every output port;
- its Python tables (``assets.py``) import, belong to its products and read declared input ports;
- every input port -- read by a dbt source or by Python, alike -- names an existing output
  port of another domain, through its published snapshot, with the producer's contract id;
  and no source reads another domain's internal data. A producer that does not load is not
  the consumer's problem: it is reported once, under the producer (a broken domain fails only
  its own code location);
- lifecycle and agreements: no other domain reads a draft or retired port, every input port
  holds a usage agreement in force, deprecations keep the notice period (lifecycle/rules.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from mesh_platform.mesh.address import FORMAT, PortAddress
from mesh_platform.mesh.model import INPUT_PORT_META, PRODUCT_META, DbtSource, Mesh
from mesh_platform.python_tables import ASSETS_FILE, line_of
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.loader import Domain
from mesh_platform.specs.product import lifted_paths

_OTHER_DOMAIN_PATHS = (re.compile(r"/landing/([a-z][a-z0-9_]*)/"), re.compile(r"/warehouse/([a-z][a-z0-9_]*)\.duckdb"))


def validate(mesh: Mesh, domains: list[str] | None = None) -> list[Problem]:
    """Every problem of these domains (default: all), in a stable order."""
    problems: list[Problem] = []
    for name in domains or mesh.names:
        problems += validate_domain(mesh, name)
    return problems


def check_domain(mesh: Mesh, name: str) -> None:
    """Raise SpecError with every problem of one domain (what a code location does at load)."""
    problems = validate_domain(mesh, name)
    if problems:
        raise SpecError(problems)


def validate_domain(mesh: Mesh, name: str) -> list[Problem]:
    if name not in mesh.folders:
        raise LookupError(f"no domain {name!r} under {mesh.root} (domains: {', '.join(mesh.names)})")
    if mesh.problems_of(name):
        return list(mesh.problems_of(name))
    domain = mesh.domain(name)
    problems = _contracts(domain)
    if mesh.manifest(name) is None:
        problems.append(
            Problem(
                domain.dbt_project_dir / "dbt_project.yml",
                None,
                "",
                f"no dbt manifest at {mesh.manifest_path(name)}: run `mesh prepare` "
                f"(or `make dev`) to parse the dbt project",
                rule="mesh.dbt_manifest",
            )
        )
        return problems
    problems += _port_models(mesh, domain)
    try:
        tables = mesh.python_tables(name)
    except SpecError as exc:
        return problems + exc.problems
    problems += _python_tables(domain, tables)
    problems += _input_ports(mesh, domain)
    problems += _lifecycle(mesh, name)
    return problems


def _lifecycle(mesh: Mesh, name: str) -> list[Problem]:
    """Lifecycle states and usage agreements (mesh_platform.lifecycle), on today's date."""
    from mesh_platform.lifecycle.rules import domain_problems

    return domain_problems(mesh, name)


# ------------------------------------------------------------------------------ domain's own
def _contracts(domain: Domain) -> list[Problem]:
    from mesh_platform.contracts.compiler import compile_contract

    problems = []
    for port in domain.ports():
        try:
            compile_contract(port.contract, port.model)
        except SpecError as exc:
            problems += exc.problems
    return problems


def _port_models(mesh: Mesh, domain: Domain) -> list[Problem]:
    project = mesh.dbt_project_name(domain.name)
    models = {
        n["name"]
        for n in mesh.manifest(domain.name).get("nodes", {}).values()
        if n.get("resource_type") in ("model", "seed", "snapshot") and n.get("package_name") == project
    }
    return [
        port.product.doc.problem(
            ("outputPorts", port.index, "model"),
            f"dbt project {project!r} has no model {port.model!r} (models: {', '.join(sorted(models)) or 'none'})",
            rule="mesh.port_model",
        )
        for port in domain.ports()
        if port.model not in models
    ]


def _python_tables(domain: Domain, tables: list) -> list[Problem]:
    problems = []
    file = domain.dir / ASSETS_FILE
    products = {p.name: p for p in domain.products}
    for table in tables:
        product = products.get(table.product)
        if product is None:
            problems.append(
                Problem(
                    file,
                    line_of(table),
                    table.table,
                    f"product {table.product!r} is not a product of domain {domain.name!r} "
                    f"(products: {', '.join(products)})",
                    rule="mesh.python_table",
                )
            )
            continue
        ports = {p.name for p in product.spec.inputPorts}
        missing = [name for name in table.inputs if name not in ports]
        if missing:
            problems.append(
                Problem(
                    file,
                    line_of(table),
                    table.table,
                    f"inputs {missing} are not input ports of {domain.name}.{product.name} "
                    f"(inputPorts in {product.file}: {', '.join(sorted(ports)) or 'none'})",
                    rule="mesh.python_inputs",
                )
            )
        if table.audited_by and table.audited_by not in {p.name for p in product.ports}:
            problems.append(
                Problem(
                    file,
                    line_of(table),
                    table.table,
                    f"audited_by {table.audited_by!r} is not an output port of {domain.name}.{product.name}",
                    rule="mesh.python_table",
                )
            )
    return problems


# ------------------------------------------------------------------------------ input ports
def _input_ports(mesh: Mesh, domain: Domain) -> list[Problem]:
    problems: list[Problem] = []
    declared = {p.source for product in domain.products for p in product.spec.inputPorts}
    python_keys = {(t.product, t.table) for t in mesh.python_tables(domain.name)}
    for source in mesh.dbt_sources(domain.name):
        if source.input_port:
            problems += _input_port_source(mesh, domain, source, declared)
        else:
            problems += _plain_source(domain, source, python_keys)

    edges = mesh.reads_of(domain.name)
    for edge in edges:
        if edge.kind == "python":
            problem = _producer_problem(mesh, edge.written)
            if problem:
                problems.append(edge.problem(*problem))
    read = {e.written for e in edges}
    for product in domain.products:
        for i, port in enumerate(product.spec.inputPorts):
            if port.source not in read:
                address = PortAddress.try_parse(port.source)
                where = address.dbt_external_location() if address else "its published snapshot"
                problems.append(
                    product.doc.problem(
                        lifted_paths(product.doc.data).get(("inputPorts", i, "source"), ("inputPorts", i, "source")),
                        f"input port {port.source!r} is read by no dbt source in {domain.dbt_project_dir} and no "
                        f"Python table in {domain.dir / ASSETS_FILE}: add a dbt source table with "
                        f"meta.{INPUT_PORT_META}: {port.source!r} reading {where}",
                        rule="mesh.input_port_unread",
                    )
                )
                continue
            producer = mesh.port(port.source)
            if producer is not None and port.contractId and port.contractId != producer.contract.id:
                problems.append(
                    product.doc.problem(
                        ("inputPorts", i, "contractId"),
                        f"expected {producer.contract.id!r}, the contract of output port {port.source!r} "
                        f"({producer.product.file}), got {port.contractId!r}",
                        rule="mesh.input_port_contract",
                    )
                )
    return problems


def _input_port_source(mesh: Mesh, domain: Domain, source: DbtSource, declared: set[str]) -> list[Problem]:
    written = source.input_port
    address = PortAddress.try_parse(written)
    if address is None:
        return [
            source.problem(
                f"meta.{INPUT_PORT_META}: expected '{FORMAT}', got {written!r}", rule="mesh.input_port_address"
            )
        ]
    if address.domain == domain.name:
        return [
            source.problem(
                f"meta.{INPUT_PORT_META}: {written!r} is this domain's own output port; inside a domain "
                "ref() the model instead of reading the published snapshot",
                rule="mesh.input_port_own_domain",
            )
        ]
    problems = []
    producer_problem = _producer_problem(mesh, written)
    if producer_problem:
        problems.append(source.problem(*producer_problem))
    if written not in declared:
        problems.append(
            source.problem(
                f"reads output port {written!r}, but no product of domain {domain.name!r} declares it: add "
                f"an inputPorts entry with source: {written!r} to the consuming product's dataproduct.yaml "
                f"under {domain.dir / 'products'}",
                rule="mesh.input_port_undeclared",
            )
        )
    location = str(source.meta.get("external_location", ""))
    if mesh.problems_of(address.domain):
        return problems  # how the producer publishes (partitioned or not) is unknown until it loads
    producer = mesh.port(written) if not producer_problem else None
    partitioned = producer is not None and producer.product.partitioning is not None
    tail = address.read_tail(partitioned)
    if not location:
        problems.append(
            source.problem(
                f"input port {written!r} needs meta.external_location reading "
                f"{address.dbt_external_location(partitioned)}",
                rule="mesh.input_port_location",
            )
        )
    elif tail not in location:
        problems.append(
            source.problem(
                f"input port {written!r} must read the producer's published snapshot ({tail}), not {location}",
                rule="mesh.input_port_location",
            )
        )
    return problems


def _plain_source(domain: Domain, source: DbtSource, python_keys: set[tuple[str, str]]) -> list[Problem]:
    problems = []
    location = str(source.meta.get("external_location", ""))
    for pattern in _OTHER_DOMAIN_PATHS:
        match = pattern.search(location)
        if match and match.group(1) != domain.name:
            problems.append(
                source.problem(
                    f"reads domain {match.group(1)!r}'s internal data ({location}); another domain's "
                    f"data may only be read through one of its output ports: mark the source with "
                    f"meta.{INPUT_PORT_META}: '{FORMAT}' and read its published snapshot",
                    rule="mesh.internal_read",
                )
            )
    if "/published/" in location:
        problems.append(
            source.problem(
                f"reads a published snapshot ({location}) without declaring which output port: add "
                f"meta.{INPUT_PORT_META}: '{FORMAT}'",
                rule="mesh.internal_read",
            )
        )
    product = source.meta.get(PRODUCT_META)
    if product:
        table = source.node["name"]
        if product not in {p.name for p in domain.products}:
            problems.append(
                source.problem(
                    f"meta.{PRODUCT_META}: {product!r} is not a product of domain {domain.name!r} "
                    f"(products: {', '.join(p.name for p in domain.products)})",
                    rule="mesh.source_product",
                )
            )
        elif (str(product), table) not in python_keys:
            defined = ", ".join(sorted(f"{domain.name}/{p}/{t}" for p, t in python_keys)) or "none"
            problems.append(
                source.problem(
                    f"meta.{PRODUCT_META}: {product!r} says this table is built by the domain's Python, "
                    f"but {domain.dir / ASSETS_FILE} defines no table {domain.name}/{product}/{table} "
                    f"(defined: {defined})",
                    rule="mesh.source_product",
                )
            )
    return problems


def _producer_problem(mesh: Mesh, written: str) -> tuple[str, str] | None:
    """(message, rule): why an input port address does not name a readable output port, or None."""
    address = PortAddress.try_parse(written)
    if address is None:
        return f"input port {written!r}: expected '{FORMAT}'", "mesh.input_port_address"
    if mesh.problems_of(address.domain):
        # The producer's own validation reports why, under its domain; its consumers carry on
        # (a broken domain fails only its own code location).
        return None
    producer = mesh.domain(address.domain)
    if producer is None:
        return (
            f"input port {written!r}: there is no domain {address.domain!r} (domains: {', '.join(mesh.names)})",
            "mesh.input_port_target",
        )
    product = mesh.product(address.domain, address.product)
    if product is None:
        return (
            f"input port {written!r}: domain {address.domain!r} has no product {address.product!r} "
            f"(products: {', '.join(p.name for p in producer.products)}; {producer.dir})",
            "mesh.input_port_target",
        )
    if mesh.port(address) is not None:
        return None
    ports = ", ".join(str(PortAddress(address.domain, product.name, p.name)) for p in product.ports)
    internal = _internal_model_file(producer, address.port)
    if internal:
        return (
            f"input port {written!r}: {address.port!r} is an internal model of domain {address.domain!r} "
            f"({internal}), not an output port; other domains may read only output ports "
            f"({ports}, declared in {product.file})",
            "mesh.input_port_target",
        )
    return (
        f"input port {written!r}: product {address.product_address} has no output port "
        f"{address.port!r} (output ports: {ports}; {product.file})",
        "mesh.input_port_target",
    )


def _internal_model_file(producer: Domain, model: str) -> Path | None:
    for file in sorted((producer.dbt_project_dir / "models").rglob(f"{model}.sql")):
        return file
    return None
