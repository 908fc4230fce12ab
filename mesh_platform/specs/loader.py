"""Read a domain folder into one validated object graph, or fail with every problem found.

Layout: domains/<domain>/domain.yaml and products/<product>/{dataproduct.yaml, contracts/*.odcs.yaml}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from open_data_contract_standard.model import SchemaObject

from mesh_platform import settings
from mesh_platform.specs.contract import Contract, load_contract
from mesh_platform.specs.domain import DomainSpec, Team
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.partitioning import PROPERTY as PARTITIONING
from mesh_platform.specs.partitioning import Partitioning
from mesh_platform.specs.product import ARCHETYPES, OutputPort, ProductSpec, validate_product
from mesh_platform.specs.validation import validate_model
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml


@dataclass(frozen=True)
class Port:
    """An output port: the only thing other domains may read."""

    product: Product
    index: int
    spec: OutputPort
    contract: Contract

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def schema(self) -> SchemaObject:
        obj = self.contract.schema_object(self.spec.model) or self.contract.schema_object(self.spec.name)
        assert obj is not None  # checked at load
        return obj

    @property
    def address(self) -> str:
        return f"{self.product.domain_name}.{self.product.name}.{self.name}"


@dataclass
class Product:
    dir: Path
    doc: YamlDocument
    spec: ProductSpec
    domain_name: str
    team: Team
    contracts: dict[str, Contract] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    partitioning: Partitioning | None = None  # time partitions, when the descriptor declares them

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def file(self) -> Path:
        return self.doc.file


@dataclass
class Domain:
    dir: Path
    doc: YamlDocument
    spec: DomainSpec
    products: list[Product]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dbt_project_dir(self) -> Path:
        if self.spec.dbt_project:
            return (settings.repo_root() / self.spec.dbt_project).resolve()
        return settings.dbt_projects_dir() / self.name

    def ports(self) -> list[Port]:
        return [port for product in self.products for port in product.ports]


def load_domain(domain_dir: Path) -> Domain:
    domain_dir = Path(domain_dir).resolve()
    doc = load_yaml(domain_dir / settings.DOMAIN_FILE)
    spec = validate_model(doc, DomainSpec)
    if spec.name != domain_dir.name:
        raise doc.error(
            ("name",), f"expected the folder name {domain_dir.name!r}, got {spec.name!r}", rule="spec.folder"
        )
    root = settings.repo_root().resolve()
    if spec.dbt_project and not (root / spec.dbt_project).resolve().is_relative_to(root):
        raise doc.error(
            ("dbt_project",), f"{spec.dbt_project!r} leaves the repository through a symbolic link", rule="spec.field"
        )
    problems: list[Problem] = []
    products = []
    for product_dir in sorted((domain_dir / "products").glob("*/")):
        try:
            products.append(_load_product(product_dir, spec))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return Domain(dir=domain_dir, doc=doc, spec=spec, products=products)


def _load_product(product_dir: Path, domain: DomainSpec) -> Product:
    doc = load_yaml(product_dir / settings.DESCRIPTOR_FILE)
    spec = validate_product(doc)
    problems: list[Problem] = []
    if spec.domain != domain.name:
        problems.append(
            doc.problem(
                ("domain",),
                f"expected {domain.name!r} (the domain this folder is in), got {spec.domain!r}",
                rule="spec.folder",
            )
        )
    if spec.name != product_dir.name:
        problems.append(
            doc.problem(
                ("name",), f"expected the folder name {product_dir.name!r}, got {spec.name!r}", rule="spec.folder"
            )
        )
    if spec.custom("archetype") not in ARCHETYPES:
        problems.append(
            doc.problem(
                ("customProperties",),
                f"expected a customProperty 'archetype' with one of {list(ARCHETYPES)}, "
                f"got {spec.custom('archetype')!r}",
                rule="spec.custom_property",
            )
        )
    partitioning = None
    for i, prop in enumerate(spec.customProperties):
        if prop.property == PARTITIONING:
            try:
                partitioning = validate_model(doc, Partitioning, prop.value, ("customProperties", i, "value"))
            except SpecError as exc:
                problems.extend(exc.problems)
    contracts: dict[str, Contract] = {}
    unreadable_contracts = False
    for file in sorted((product_dir / "contracts").glob("*")):
        if not file.name.endswith(settings.CONTRACT_SUFFIX):
            if file.suffix in (".yaml", ".yml"):  # a contract ODPS tooling would not find
                problems.append(
                    Problem(
                        file,
                        None,
                        "",
                        f"contract files are named <name>{settings.CONTRACT_SUFFIX}",
                        rule="spec.contract_file_name",
                    )
                )
            continue
        try:
            contract = load_contract(file)
        except SpecError as exc:
            problems.extend(exc.problems)
            unreadable_contracts = True
            continue
        if contract.id in contracts:
            problems.append(
                contract.doc.problem(
                    ("id",),
                    f"contract id {contract.id!r} is also used by {contracts[contract.id].file}",
                    rule="spec.duplicate",
                )
            )
        contracts[contract.id] = contract
    product = Product(
        dir=product_dir,
        doc=doc,
        spec=spec,
        domain_name=domain.name,
        team=spec.team or domain.team,
        contracts=contracts,
        partitioning=partitioning,
    )
    names = set()
    for i, port_spec in enumerate(spec.outputPorts):
        if port_spec.name in names:
            problems.append(
                doc.problem(
                    ("outputPorts", i, "name"), f"duplicate output port {port_spec.name!r}", rule="spec.duplicate"
                )
            )
        names.add(port_spec.name)
        contract = contracts.get(port_spec.contractId)
        if contract is None:
            if unreadable_contracts:
                continue  # the contract's own errors were reported; a second message would mislead
            problems.append(
                doc.problem(
                    ("outputPorts", i, "contractId"),
                    f"no contract with id {port_spec.contractId!r} under {product_dir / 'contracts'} "
                    f"(found: {sorted(contracts) or 'none'})",
                    rule="spec.contract_missing",
                )
            )
            continue
        if contract.schema_object(port_spec.model) is None and contract.schema_object(port_spec.name) is None:
            problems.append(
                contract.doc.problem(
                    ("schema",),
                    f"expected a schema object named {port_spec.model!r} "
                    f"(output port {port_spec.name!r} of {doc.file})",
                    rule="spec.schema_object_missing",
                )
            )
            continue
        if partitioning is not None:
            schema = contract.schema_object(port_spec.model) or contract.schema_object(port_spec.name)
            columns = {p.physicalName or p.name: p for p in schema.properties or []}
            column = columns.get(partitioning.column)
            if column is None or (column.logicalType or "date") != "date":
                problems.append(
                    doc.problem(
                        ("customProperties",),
                        f"partitioning column {partitioning.column!r} must be a date column of output port "
                        f"{port_spec.name!r} ({contract.file} has "
                        f"{'no such column' if column is None else 'logicalType ' + str(column.logicalType)})",
                        rule="spec.partitioning",
                    )
                )
                continue
        product.ports.append(Port(product=product, index=i, spec=port_spec, contract=contract))
    if problems:
        raise SpecError(problems)
    return product
