"""Input ports: how one domain reads another domain's output port.

A consumer declares the port in its descriptor (``inputPorts[].source:
"<domain>.<product>.<port>"``) and reads it through a dbt source table marked

    meta:
      mesh_input_port: "<domain>.<product>.<port>"
      external_location: "read_parquet('<MESH_DATA_DIR>/published/<domain>/<product>/<port>/current.parquet')"

The translator gives that source the producer's output-port key ``[domain, product, port]``,
so Dagster draws one lineage graph across code locations. Everything a consumer reads is a
published, contract-checked snapshot; internal models of another domain are never read.

A dbt source table marked ``meta: {mesh_product: <product>}`` is a table the domain's own
Python builds (``domains/<domain>/assets.py``); its key is ``[domain, product, table]``.

All of this is checked when a code location loads; each problem names the file and line
on both sides (the consumer's dbt source or descriptor and the producer's descriptor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Sequence

import dagster as dg

from mesh_platform import settings
from mesh_platform.specs.errors import SpecError, SpecProblem
from mesh_platform.specs.loader import Domain, load_domain
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

INPUT_PORT_META = "mesh_input_port"
PRODUCT_META = "mesh_product"
_ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_OTHER_DOMAIN_PATHS = (re.compile(r"/landing/([a-z][a-z0-9_]*)/"),
                       re.compile(r"/warehouse/([a-z][a-z0-9_]*)\.duckdb"))


def port_key(address: str) -> dg.AssetKey:
    """The asset key of an output port: [domain, product, port]."""
    return dg.AssetKey(address.split("."))


def published_file(address: str) -> Path:
    """Where a consumer reads an output port: its live snapshot (`current.parquet`), or for a
    partitioned port the live version directory (`current/`, read as `current/*/*.parquet`)."""
    from mesh_platform.publishing.partitioned import current_dir
    from mesh_platform.publishing.snapshots import current_path

    domain, product, port = address.split(".")
    port_dir = settings.published_dir(domain, product, port)
    return current_dir(port_dir) if _producer_partitioned(address) else current_path(port_dir)


def published_tail(address: str) -> str:
    """The end of the path a consumer's source must read, below MESH_DATA_DIR."""
    read = "current/*/*.parquet" if _producer_partitioned(address) else "current.parquet"
    return "/".join(["published", *address.split("."), read])


def _producer_partitioned(address: str) -> bool:
    try:
        return _producer_port(address).product.partitioning is not None
    except Exception:  # noqa: BLE001 - an unknown producer is reported by validation
        return False


def source_meta(node: dict[str, Any]) -> dict[str, Any]:
    return {**(node.get("source_meta") or {}), **(node.get("meta") or {})}


def input_port_of(node: dict[str, Any]) -> str | None:
    """The output port address a dbt source node reads, if it is an input port."""
    value = source_meta(node).get(INPUT_PORT_META)
    return str(value) if value else None


def source_asset_key(domain: Domain, node: dict[str, Any], landing: str) -> dg.AssetKey:
    """Key of a dbt source: a producer's port, a table this domain's Python builds, or landing."""
    address = input_port_of(node)
    if address and _ADDRESS.match(address):
        return port_key(address)
    product = source_meta(node).get(PRODUCT_META)
    if product:
        return dg.AssetKey([domain.name, str(product), node["name"]])
    return dg.AssetKey([domain.name, landing, node["name"]])


# --------------------------------------------------------------------------------------
# Load-time validation
# --------------------------------------------------------------------------------------
@dataclass
class _SourceRef:
    """A dbt source table and where it is written (file, line) for error messages."""

    node: dict[str, Any]
    doc: YamlDocument | None
    path: tuple

    def problem(self, message: str, *sub: str | int) -> SpecProblem:
        name = f"source {self.node['source_name']}.{self.node['name']}"
        if self.doc is None:
            return SpecProblem(Path(self.node.get("original_file_path", "?")), None, name, message)
        return SpecProblem(self.doc.file, self.doc.line_of((*self.path, *sub)), name, message)


def validate_input_ports(domain: Domain, manifest: dict[str, Any], project_name: str,
                         python_assets: Sequence[dg.AssetsDefinition] = ()) -> None:
    """Raise SpecError listing every broken link between descriptors, dbt sources, the domain's
    Python tables and producers. An input port is read by a dbt source or a Python table."""
    problems: list[SpecProblem] = []
    declared: dict[str, list[tuple[Any, int]]] = {}
    for product in domain.products:
        for i, port in enumerate(product.spec.inputPorts):
            declared.setdefault(port.source, []).append((product, i))
    python_keys = {key for a in python_assets for key in a.keys}
    read_by_sources: set[str] = {".".join(dep.asset_key.path) for a in python_assets
                                 for spec in a.specs for dep in spec.deps}

    for node in _sources(manifest, project_name):
        ref = _source_ref(domain, node)
        meta = source_meta(node)
        address = input_port_of(node)
        location = str(meta.get("external_location", ""))
        if address:
            read_by_sources.add(address)
            problems += _check_input_port_source(domain, ref, address, location, declared)
            continue
        for pattern in _OTHER_DOMAIN_PATHS:
            match = pattern.search(location)
            if match and match.group(1) != domain.name:
                problems.append(ref.problem(
                    f"reads domain {match.group(1)!r}'s internal data ({location}); another domain's "
                    f"data may only be read through one of its output ports: mark the source with "
                    f"meta.{INPUT_PORT_META}: '<domain>.<product>.<port>' and read its published snapshot",
                    "name"))
        if "/published/" in location:
            problems.append(ref.problem(
                f"reads a published snapshot ({location}) without declaring which output port: add "
                f"meta.{INPUT_PORT_META}: '<domain>.<product>.<port>'", "name"))
        product = meta.get(PRODUCT_META)
        if product:
            key = dg.AssetKey([domain.name, str(product), node["name"]])
            if product not in {p.name for p in domain.products}:
                problems.append(ref.problem(
                    f"meta.{PRODUCT_META}: {product!r} is not a product of domain {domain.name!r} "
                    f"(products: {', '.join(p.name for p in domain.products)})", "name"))
            elif key not in python_keys:
                problems.append(ref.problem(
                    f"meta.{PRODUCT_META}: {product!r} says this table is built by the domain's Python, "
                    f"but {domain.dir / 'assets.py'} defines no table {key.to_user_string()} "
                    f"(defined: {', '.join(sorted(k.to_user_string() for k in python_keys)) or 'none'})",
                    "name"))

    for address, users in declared.items():
        if address in read_by_sources:
            continue
        for product, i in users:
            problems.append(product.doc.problem(
                ("inputPorts", i, "source"),
                f"input port {address!r} is read by no dbt source in {domain.dbt_project_dir} and no Python "
                f"table in {domain.dir / 'assets.py'}: add a dbt source table with "
                f"meta.{INPUT_PORT_META}: {address!r} reading {_expected_location(address)}"))
    if problems:
        raise SpecError(problems)


def _check_input_port_source(domain: Domain, ref: _SourceRef, address: str, location: str,
                             declared: dict) -> list[SpecProblem]:
    if not _ADDRESS.match(address):
        return [ref.problem(f"meta.{INPUT_PORT_META}: expected '<domain>.<product>.<port>', got {address!r}",
                            "name")]
    problems = []
    producer_name, product_name, port_name = address.split(".")
    if producer_name == domain.name:
        return [ref.problem(
            f"meta.{INPUT_PORT_META}: {address!r} is this domain's own output port; inside a domain "
            "ref() the model instead of reading the published snapshot", "name")]
    producer_problem = _producer_problem(address)
    if producer_problem:
        problems.append(ref.problem(producer_problem, "name"))
    elif address in declared:
        for product, i in declared[address]:
            contract_id = product.spec.inputPorts[i].contractId
            expected = _producer_port(address).contract.id
            if contract_id and contract_id != expected:
                problems.append(product.doc.problem(
                    ("inputPorts", i, "contractId"),
                    f"expected {expected!r}, the contract of output port {address!r} "
                    f"({_producer_port(address).product.file}), got {contract_id!r}"))
    if address not in declared:
        problems.append(ref.problem(
            f"reads output port {address!r}, but no product of domain {domain.name!r} declares it: add "
            f"an inputPorts entry with source: {address!r} to the consuming product's dataproduct.yaml "
            f"under {domain.dir / 'products'}", "name"))
    expected_tail = published_tail(address)
    if not location:
        problems.append(ref.problem(
            f"input port {address!r} needs meta.external_location reading {_expected_location(address)}",
            "name"))
    elif expected_tail not in location:
        problems.append(ref.problem(
            f"input port {address!r} must read the producer's published snapshot ({expected_tail}), "
            f"not {location}", "name"))
    return problems


def _producer_problem(address: str) -> str | None:
    producer_name, product_name, port_name = address.split(".")
    domain_dir = settings.domains_dir() / producer_name
    if not (domain_dir / "domain.yaml").exists():
        known = sorted(p.parent.name for p in settings.domains_dir().glob("*/domain.yaml"))
        return f"input port {address!r}: there is no domain {producer_name!r} (domains: {', '.join(known)})"
    try:
        producer = _load_producer(producer_name)
    except SpecError as exc:
        return f"input port {address!r}: the producing domain does not load: {exc.problems[0]}"
    product = next((p for p in producer.products if p.name == product_name), None)
    if product is None:
        return (f"input port {address!r}: domain {producer_name!r} has no product {product_name!r} "
                f"(products: {', '.join(p.name for p in producer.products)}; {domain_dir})")
    if any(port.name == port_name for port in product.ports):
        return None
    ports = ", ".join(p.address for p in product.ports)
    internal = _internal_model_file(producer, port_name)
    if internal:
        return (f"input port {address!r}: {port_name!r} is an internal model of domain {producer_name!r} "
                f"({internal}), not an output port; other domains may read only output ports "
                f"({ports}, declared in {product.file})")
    return (f"input port {address!r}: product {producer_name}.{product_name} has no output port "
            f"{port_name!r} (output ports: {ports}; {product.file})")


def _producer_port(address: str):
    producer_name, product_name, port_name = address.split(".")
    product = next(p for p in _load_producer(producer_name).products if p.name == product_name)
    return next(port for port in product.ports if port.name == port_name)


def _load_producer(name: str) -> Domain:
    return _load_domain_cached(settings.domains_dir() / name)


@cache
def _load_domain_cached(domain_dir: Path) -> Domain:
    return load_domain(domain_dir)


def _internal_model_file(producer: Domain, model: str) -> Path | None:
    for file in sorted((producer.dbt_project_dir / "models").rglob(f"{model}.sql")):
        return file
    return None


def _expected_location(address: str) -> str:
    return (f"\"read_parquet('{{{{ env_var('MESH_DATA_DIR', '../../data') }}}}/"
            f"{published_tail(address)}')\"")


def _sources(manifest: dict[str, Any], project_name: str) -> list[dict[str, Any]]:
    return [n for n in manifest.get("sources", {}).values() if n.get("package_name") == project_name]


def _source_ref(domain: Domain, node: dict[str, Any]) -> _SourceRef:
    file = domain.dbt_project_dir / node.get("original_file_path", "")
    try:
        doc = load_yaml(file)
    except SpecError:
        return _SourceRef(node, None, ())
    for i, source in enumerate(doc.data.get("sources") or []):
        if source.get("name") != node["source_name"]:
            continue
        for j, table in enumerate(source.get("tables") or []):
            if table.get("name") == node["name"]:
                return _SourceRef(node, doc, ("sources", i, "tables", j))
        return _SourceRef(node, doc, ("sources", i))
    return _SourceRef(node, doc, ())


# --------------------------------------------------------------------------------------
# Run time
# --------------------------------------------------------------------------------------
def unpublished_inputs(ports, product_names: set[str]) -> list[str]:
    """One message per input port of these products (given via their output ports) whose
    producer has not published a snapshot yet."""
    out, seen = [], set()
    for port in ports:
        product = port.product
        if product.name not in product_names or product.name in seen:
            continue
        seen.add(product.name)
        for input_port in product.spec.inputPorts:
            path = published_file(input_port.source)
            if not path.exists():
                out.append(f"{product.domain_name}.{product.name}: input port {input_port.source} is not "
                           f"published yet ({path} does not exist); materialise "
                           f"{input_port.source.rsplit('.', 1)[0]} first, then re-run this product")
    return out
