"""The Mesh: every domain, product, output port and contract, and who reads what.

Loaded once from ``domains/`` (YAML only, cheap) plus, on demand, each domain's dbt manifest
and Python tables. Code locations, the CLI, governance and the catalog read this one model;
nothing re-derives cross-domain facts on its own.

An :class:`Edge` links a consumer (a dbt source or a Python table of some domain) to the
producer output port it reads, with the file and line where the read is written, so every
port knows its consumers and every later check can report ``file:line``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mesh_platform import settings
from mesh_platform.mesh.address import PortAddress
from mesh_platform.specs.errors import DEFAULT_RULE, Problem, SpecError
from mesh_platform.specs.loader import Domain, Port, Product, load_domain
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

INPUT_PORT_META = "mesh_input_port"
PRODUCT_META = "mesh_product"

# dbt_source: another domain's port through a dbt source; dbt_ref: another product's port of the
# same domain through ref() (from the manifest's lineage, as Dagster draws it); python: a Python table.
EdgeKind = Literal["dbt_source", "dbt_ref", "python"]


@dataclass(frozen=True)
class Edge:
    """A consumer reading a producer's output port.

    ``written`` is the address exactly as the consumer wrote it; ``producer`` is its parsed
    form (None when it does not parse). ``consumer_product``/``input_port`` name the consumer's
    descriptor entry (None for a dbt source no product declares). ``file``/``line``/``field``
    point at where the read is written (the dbt source, or the descriptor's input port for a
    Python table, which names the port only through it).
    """

    kind: EdgeKind
    written: str
    producer: PortAddress | None
    consumer_domain: str
    consumer_product: str | None
    input_port: str | None
    reader: str  # "source <source>.<table>", "ref <model>" or "python <table>"
    file: Path
    line: int | None
    field: str

    @property
    def relation(self) -> tuple[str, ...] | None:
        """What the consumer's SQL reads: ("source", source, table) or ("ref", model); None for Python."""
        if self.kind == "dbt_source":
            return ("source", *self.reader.removeprefix("source ").split(".", 1))
        if self.kind == "dbt_ref":
            return ("ref", self.reader.removeprefix("ref "))
        return None

    def problem(self, message: str, rule: str = DEFAULT_RULE) -> Problem:
        return Problem(self.file, self.line, self.field, message, rule)


@dataclass
class DbtSource:
    """A dbt source table of a domain's project, with where it is written."""

    node: dict[str, Any]
    doc: YamlDocument | None
    path: tuple

    @property
    def name(self) -> str:
        return f"{self.node['source_name']}.{self.node['name']}"

    @property
    def meta(self) -> dict[str, Any]:
        return {**(self.node.get("source_meta") or {}), **(self.node.get("meta") or {})}

    @property
    def input_port(self) -> str | None:
        value = self.meta.get(INPUT_PORT_META)
        return str(value) if value else None

    @property
    def file(self) -> Path:
        return self.doc.file if self.doc else Path(self.node.get("original_file_path", "?"))

    @property
    def line(self) -> int | None:
        return self.doc.line_of((*self.path, "name")) if self.doc else None

    def problem(self, message: str, rule: str = DEFAULT_RULE) -> Problem:
        return Problem(self.file, self.line, f"source {self.name}", message, rule)


@dataclass
class Mesh:
    """Every domain under ``root`` (``domains/``). A domain's YAML is read the first time it is
    asked for, so a code location pays only for its own domain and the producers it reads;
    ``domains``/``products``/``ports`` read them all. A domain that fails to load keeps its
    problems (``load_problems``) instead of raising."""

    root: Path
    folders: dict[str, Path]
    _loaded: dict[str, Domain | list[Problem]] = field(default_factory=dict, repr=False)
    _manifests: dict[str, dict | None] = field(default_factory=dict, repr=False)
    _tables: dict[str, list | Problem] = field(default_factory=dict, repr=False)
    _reads: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    _sources: dict[str, list[DbtSource]] = field(default_factory=dict, repr=False)
    _column_uses: dict[Edge, list | None] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        domains_dir: Path | None = None,
        *,
        manifests: dict[str, dict] | None = None,
        folders: dict[str, Path] | None = None,
    ) -> Mesh:
        """The mesh under ``domains_dir`` (default: the repository's ``domains/``): every folder
        with a ``domain.yaml``. ``folders`` adds or replaces domain folders (a code location
        loaded from elsewhere still reads its producers from the mesh); ``manifests`` overrides
        the dbt manifests read from disk (tests, or a caller that already holds one)."""
        domains_dir = Path(domains_dir or settings.domains_dir()).resolve()
        folders = {
            **{p.parent.name: p.parent for p in sorted(domains_dir.glob(f"*/{settings.DOMAIN_FILE}"))},
            **{name: Path(path).resolve() for name, path in (folders or {}).items()},
        }
        mesh = cls(root=domains_dir, folders=folders)
        mesh._manifests.update(manifests or {})
        return mesh

    def _load(self, name: str) -> Domain | list[Problem] | None:
        if name not in self.folders:
            return None
        if name not in self._loaded:
            try:
                self._loaded[name] = load_domain(self.folders[name])
            except SpecError as exc:
                self._loaded[name] = exc.problems
        return self._loaded[name]

    @property
    def names(self) -> list[str]:
        """Every domain folder, loaded or not."""
        return sorted(self.folders)

    @property
    def domains(self) -> dict[str, Domain]:
        """Every domain that loads (reads all of them)."""
        return {n: d for n in self.names if isinstance(d := self._load(n), Domain)}

    @property
    def load_problems(self) -> dict[str, list[Problem]]:
        """The problems of every domain that does not load (reads all of them)."""
        return {n: d for n in self.names if isinstance(d := self._load(n), list)}

    def problems_of(self, name: str) -> list[Problem]:
        """Why domain ``name`` does not load ([] when it does or does not exist)."""
        loaded = self._load(name)
        return loaded if isinstance(loaded, list) else []

    # ---------------------------------------------------------------- elements
    def domain(self, name: str) -> Domain | None:
        loaded = self._load(name)
        return loaded if isinstance(loaded, Domain) else None

    @property
    def products(self) -> list[Product]:
        return [p for d in self.domains.values() for p in d.products]

    @property
    def ports(self) -> list[Port]:
        return [port for d in self.domains.values() for port in d.ports()]

    def product(self, domain: str, name: str) -> Product | None:
        d = self.domain(domain)
        return next((p for p in d.products if p.name == name), None) if d else None

    def port(self, address: PortAddress | str) -> Port | None:
        address = address if isinstance(address, PortAddress) else PortAddress.try_parse(address)
        if address is None:
            return None
        product = self.product(address.domain, address.product)
        return next((p for p in product.ports if p.name == address.port), None) if product else None

    # ---------------------------------------------------------------- dbt and Python
    def manifest_path(self, domain: str) -> Path:
        """Where dagster-dbt's DbtProject keeps the domain's manifest (target/<target>/)."""
        return self.domain(domain).dbt_project_dir / "target" / settings.target() / "manifest.json"

    def manifest(self, domain: str) -> dict | None:
        """The domain's parsed dbt manifest, or None when it was never built (`mesh prepare`)."""
        if domain not in self._manifests:
            path = self.manifest_path(domain)
            self._manifests[domain] = json.loads(path.read_text()) if path.exists() else None
        return self._manifests[domain]

    def forget_manifest(self, domain: str) -> None:
        """Read the domain's manifest again next time (after `dbt parse` rebuilt it)."""
        for cache in (self._manifests, self._sources, self._reads):
            cache.pop(domain, None)
        self._column_uses = {e: u for e, u in self._column_uses.items() if e.consumer_domain != domain}

    def dbt_project_name(self, domain: str) -> str | None:
        manifest = self.manifest(domain)
        if manifest is None:
            return None
        name = (manifest.get("metadata") or {}).get("project_name")
        if name:
            return name
        yml = self.domain(domain).dbt_project_dir / "dbt_project.yml"
        return load_yaml(yml).data.get("name") if yml.exists() else None

    def dbt_sources(self, domain: str) -> list[DbtSource]:
        """The domain's own dbt source tables (from its manifest), each with file and line."""
        if domain not in self._sources:
            manifest, project = self.manifest(domain), self.dbt_project_name(domain)
            nodes = [n for n in (manifest or {}).get("sources", {}).values() if n.get("package_name") == project]
            self._sources[domain] = [_locate_source(self.domain(domain), n) for n in nodes]
        return self._sources[domain]

    def python_tables(self, domain: str) -> list:
        """The ProductTables of ``domains/<domain>/assets.py``; SpecError if the file does not import."""
        if domain not in self._tables:
            from mesh_platform.python_tables import load_product_tables

            try:
                self._tables[domain] = load_product_tables(self.domain(domain).dir)
            except SpecError as exc:
                self._tables[domain] = exc.problems[0]
        value = self._tables[domain]
        if isinstance(value, Problem):
            raise SpecError([value])
        return value

    # ---------------------------------------------------------------- edges
    def reads_of(self, domain: str) -> list[Edge]:
        """Every edge whose consumer is in ``domain``: its dbt input-port sources and the input
        ports its Python tables read."""
        if domain not in self._reads:
            self._reads[domain] = list(self._build_reads(domain))
        return self._reads[domain]

    @property
    def edges(self) -> list[Edge]:
        return [e for name in self.domains for e in self._safe_reads(name)]

    def consumers_of(self, address: PortAddress | str) -> list[Edge]:
        """Who reads this output port, in every domain."""
        address = address if isinstance(address, PortAddress) else PortAddress.parse(address)
        return [e for e in self.edges if e.producer == address]

    def producers_of(self, product: Product) -> list[Edge]:
        """The edges from this product to the producer ports it reads."""
        return [e for e in self._safe_reads(product.domain_name) if e.consumer_product == product.name]

    def column_uses(self, edge: Edge) -> list | None:
        """For each dbt model of the consumer that reads the edge's port: the port's columns it
        reads and which output column derives from which (mesh/column_reads.py, ColumnUse).
        None when the reads cannot be seen (a Python table, or a producer port not in the mesh)."""
        if edge not in self._column_uses:
            port = self.port(edge.producer) if edge.producer else None
            domain = self.domain(edge.consumer_domain)
            if edge.relation is None or port is None or domain is None:
                self._column_uses[edge] = None
            else:
                from mesh_platform.mesh.column_reads import relation_reads

                columns = [p.physicalName or p.name for p in port.schema.properties or []]
                self._column_uses[edge] = relation_reads(domain.dbt_project_dir, edge.relation, columns)
        return self._column_uses[edge]

    def input_addresses(self, product: Product) -> list[PortAddress]:
        """The output ports a product declares as input ports (the ones that parse)."""
        out = []
        for port in product.spec.inputPorts:
            address = PortAddress.try_parse(port.source)
            if address is not None:
                out.append(address)
        return out

    def _safe_reads(self, domain: str) -> list[Edge]:
        try:
            return self.reads_of(domain)
        except SpecError:
            return []  # a domain whose Python does not import reads nothing we can see

    def _build_reads(self, name: str) -> Iterable[Edge]:
        domain = self.domain(name)
        declared: dict[str, list[tuple[Product, int]]] = {}
        for product in domain.products:
            for i, port in enumerate(product.spec.inputPorts):
                declared.setdefault(port.source, []).append((product, i))
        for source in self.dbt_sources(name):
            written = source.input_port
            if not written:
                continue
            users = declared.get(written) or [(None, None)]
            for product, i in users:
                yield Edge(
                    kind="dbt_source",
                    written=written,
                    producer=PortAddress.try_parse(written),
                    consumer_domain=name,
                    consumer_product=product.name if product else None,
                    input_port=product.spec.inputPorts[i].name if product else None,
                    reader=f"source {source.name}",
                    file=source.file,
                    line=source.line,
                    field=f"source {source.name}",
                )
        yield from self._product_reads(domain)
        for table in self.python_tables(name):
            product = next((p for p in domain.products if p.name == table.product), None)
            if product is None:
                continue
            for input_name in table.inputs:
                i = next((i for i, p in enumerate(product.spec.inputPorts) if p.name == input_name), None)
                if i is None:
                    continue
                written = product.spec.inputPorts[i].source
                path = ("inputPorts", i, "source")
                # `source` is lifted from the input port's customProperties: name where it is written.
                from mesh_platform.specs.product import lifted_paths

                path = lifted_paths(product.doc.data).get(path, path)
                yield Edge(
                    kind="python",
                    written=written,
                    producer=PortAddress.try_parse(written),
                    consumer_domain=name,
                    consumer_product=product.name,
                    input_port=input_name,
                    reader=f"python {table.table}",
                    file=product.file,
                    line=product.doc.line_of(path),
                    field=f"inputPorts[{i}].source",
                )

    def _product_reads(self, domain: Domain) -> Iterable[Edge]:
        """A product ref()-ing another product's output port model in the same domain, found by
        the walk that also gives Dagster its keys (mesh/dbt_lineage.py)."""
        from mesh_platform.mesh.column_reads import relation_line
        from mesh_platform.mesh.dbt_lineage import product_lineage

        manifest, project = self.manifest(domain.name), self.dbt_project_name(domain.name)
        if manifest is None:
            return
        ports = {port.model: port for port in domain.ports()}
        lineage = product_lineage(manifest, project, {m: p.product.name for m, p in ports.items()})
        nodes = manifest["nodes"]
        for product_name, read in sorted(lineage.reads.items()):
            for uid in sorted(read):
                port = ports[nodes[uid]["name"]]
                readers = sorted(nodes[r]["name"] for r in read[uid])
                node = nodes[min(read[uid])]
                file = domain.dbt_project_dir / node.get("original_file_path", "")
                relation = ("ref", port.model)
                yield Edge(
                    kind="dbt_ref",
                    written=port.address,
                    producer=PortAddress.parse(port.address),
                    consumer_domain=domain.name,
                    consumer_product=product_name,
                    input_port=None,
                    reader=f"ref {port.model}",
                    file=file,
                    line=relation_line(file, relation) if file.is_file() else None,
                    field=f"{', '.join(readers)}: ref('{port.model}')",
                )


def _locate_source(domain: Domain, node: dict[str, Any]) -> DbtSource:
    """Find the source table's entry in its YAML file so problems can name the line."""
    file = domain.dbt_project_dir / node.get("original_file_path", "")
    try:
        doc = load_yaml(file)
    except SpecError:
        return DbtSource(node, None, ())
    for i, source in enumerate(doc.data.get("sources") or []):
        if source.get("name") != node["source_name"]:
            continue
        for j, table in enumerate(source.get("tables") or []):
            if table.get("name") == node["name"]:
                return DbtSource(node, doc, ("sources", i, "tables", j))
        return DbtSource(node, doc, ("sources", i))
    return DbtSource(node, doc, ())
