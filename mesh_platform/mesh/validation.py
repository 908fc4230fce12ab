"""The mesh's own checks of a domain: part of the one validation (mesh_platform/validation.py),
which `mesh validate` and every code location run. Checks, per domain:

- its dbt manifest exists and has a model for every output port;
- its Python tables (``assets.py``) import, belong to its products and read declared input ports;
- every input port -- read by ``{{ mesh_input() }}`` in a dbt model or by Python, alike -- is
  declared, names an existing output port of another domain and carries the producer's
  contract id; no hand-written dbt source reads another domain's port or internal data (the
  platform generates the sources of input ports, publishing/input_sources.py). A producer
  that does not load is not the consumer's problem: it is reported once, under the producer
  (a broken domain fails only its own code location).
"""

from __future__ import annotations

import re
from pathlib import Path

from mesh_platform.mesh.address import FORMAT, PortAddress
from mesh_platform.mesh.dbt_sources import PRODUCT_META, DbtSource
from mesh_platform.mesh.domain import Domain
from mesh_platform.mesh.edge import Edge
from mesh_platform.mesh.model import Mesh
from mesh_platform.python_tables import ASSETS_FILE, line_of
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.product import lifted_paths

_OTHER_DOMAIN_PATHS = (re.compile(r"/landing/([a-z][a-z0-9_]*)/"), re.compile(r"/warehouse/([a-z][a-z0-9_]*)\.duckdb"))


def mesh_problems(mesh: Mesh, name: str) -> tuple[list[Problem], bool]:
    """The mesh's own checks of loaded domain ``name``, and whether they ran to the end: without
    a dbt manifest, or with Python that does not import, the later checks would only repeat
    the cause (mesh_platform/validation.py then stops)."""
    domain = mesh.domain(name)
    problems: list[Problem] = []
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
        return problems, False
    problems += _port_models(mesh, domain)
    try:
        tables = mesh.python_tables(name)
    except SpecError as exc:
        return problems + exc.problems, False
    problems += _python_tables(domain, tables)
    problems += _input_ports(mesh, domain)
    return problems, True


# ------------------------------------------------------------------------------ domain's own
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
                    f"inputs {missing} are not input ports of {product.address} "
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
                    f"audited_by {table.audited_by!r} is not an output port of {product.address}",
                    rule="mesh.python_table",
                )
            )
    return problems


# ------------------------------------------------------------------------------ input ports
def _input_ports(mesh: Mesh, domain: Domain) -> list[Problem]:
    problems: list[Problem] = []
    declared = {p.source for product in domain.products for p in product.spec.inputPorts}
    python_keys = {(t.product, t.table) for t in mesh.python_tables(domain.name)}
    for source in mesh.dbt_sources(domain.name):  # the domain's own: the generated ones are not listed
        if source.input_port:
            problems.append(
                source.problem(
                    f"input port {source.input_port!r} is read through a hand-written dbt source: a consumer "
                    f"must read the producer's published snapshot through {{{{ mesh_input('{source.input_port}') }}}}, "
                    "whose dbt source the platform generates from the product's inputPorts (remove this source)",
                    rule="mesh.input_port_handwritten",
                )
            )
        else:
            problems += _plain_source(domain, source, python_keys)

    edges = mesh.reads_of(domain.name)
    # one problem per read: a port declared by two products is one read, with two edges
    for edge in {(e.written, e.file, e.line): e for e in edges if e.kind == "dbt_source"}.values():
        problems += _dbt_read(mesh, domain, edge, declared)
    for edge in edges:
        if edge.kind == "python":
            problem = _producer_problem(mesh, edge.written)
            if problem:
                problems.append(edge.problem(*problem))
    read = {e.written for e in edges}
    for product in domain.products:
        for i, port in enumerate(product.spec.inputPorts):
            if port.source not in read:
                problems.append(
                    product.doc.problem(
                        lifted_paths(product.doc.data).get(("inputPorts", i, "source"), ("inputPorts", i, "source")),
                        f"input port {port.source!r} is read by no dbt source (no model of {domain.dbt_project_dir} "
                        f"calls {{{{ mesh_input('{port.source}') }}}}) and no Python table in "
                        f"{domain.dir / ASSETS_FILE}",
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


def _dbt_read(mesh: Mesh, domain: Domain, edge: Edge, declared: set[str]) -> list[Problem]:
    """A dbt model's read of another domain's port: {{ mesh_input('<address>') }}."""
    written, address = edge.written, edge.producer
    if address is None:
        return [edge.problem(f"expected '{FORMAT}', got {written!r}", rule="mesh.input_port_address")]
    if address.domain == domain.name:
        return [
            edge.problem(
                f"{written!r} is this domain's own output port; inside a domain ref() the model instead of "
                "reading the published snapshot",
                rule="mesh.input_port_own_domain",
            )
        ]
    problems = []
    producer_problem = _producer_problem(mesh, written)
    if producer_problem:
        problems.append(edge.problem(*producer_problem))
    if written not in declared:
        problems.append(
            edge.problem(
                f"reads output port {written!r}, but no product of domain {domain.name!r} declares it: add "
                f"an inputPorts entry with source: {written!r} to the consuming product's dataproduct.yaml "
                f"under {domain.dir / 'products'}",
                rule="mesh.input_port_undeclared",
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
                    f"data may only be read through one of its output ports: declare it as an input port "
                    f"and read it with {{{{ mesh_input('{FORMAT}') }}}}",
                    rule="mesh.internal_read",
                )
            )
    if "/published/" in location:
        problems.append(
            source.problem(
                f"reads a published snapshot ({location}) without declaring which output port: declare it "
                f"as an input port and read it with {{{{ mesh_input('{FORMAT}') }}}}",
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
