"""The Mesh: every domain, product, output port and contract, and who reads what.

Loaded once from ``domains/`` (YAML only, cheap) plus, on demand, each domain's dbt manifest
and Python tables. Code locations, the CLI, governance and the catalog read this one model;
nothing re-derives cross-domain facts on its own.

An :class:`~mesh_platform.mesh.edge.Edge` links a consumer (a dbt model's mesh_input(), a Python
table or a declared input port of some domain) to the producer output port it reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mesh_platform import settings
from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.mesh.agreements import load_mesh_agreements
from mesh_platform.mesh.column_reads import relation_line, relation_reads
from mesh_platform.mesh.dbt_inputs import call_reads, input_calls, is_generated
from mesh_platform.mesh.dbt_lineage import product_lineage
from mesh_platform.mesh.dbt_sources import DbtSource, locate_source
from mesh_platform.mesh.domain import Domain, Port, Product, load_domain
from mesh_platform.mesh.edge import Edge
from mesh_platform.python_tables import load_product_tables
from mesh_platform.specs.agreements import Agreement
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.product import lifted_paths
from mesh_platform.specs.yaml_source import load_yaml


@dataclass
class Mesh:
    """Every domain under ``root`` (``domains/``). A domain's YAML is read the first time it is
    asked for, so a code location pays only for its own domain and the producers it reads;
    ``domains``/``products``/``ports`` read them all. A domain that fails to load keeps its
    problems (``load_problems``) instead of raising. Usage agreements, dbt manifests and
    Python tables are read on first use too."""

    root: Path
    folders: dict[str, Path]
    _loaded: dict[str, Domain | list[Problem]] = field(default_factory=dict, repr=False)
    _manifests: dict[str, dict | None] = field(default_factory=dict, repr=False)
    _tables: dict[str, list | Problem] = field(default_factory=dict, repr=False)
    _reads: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    _sources: dict[str, list[DbtSource]] = field(default_factory=dict, repr=False)
    _column_uses: dict[Edge, list | None] = field(default_factory=dict, repr=False)
    _agreements: tuple[list[Agreement], list[Problem]] | None = field(default=None, repr=False)

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

    def product(self, address: ProductAddress | str, name: str | None = None) -> Product | None:
        """The product at ``address`` ('<domain>.<product>' or a ProductAddress), or of domain
        ``address`` named ``name``."""
        if name is not None:
            address = ProductAddress(str(address), name)
        elif not isinstance(address, ProductAddress):
            address = ProductAddress.try_parse(address)
        d = self.domain(address.domain) if address else None
        return next((p for p in d.products if p.name == address.product), None) if d else None

    def port(self, address: PortAddress | str) -> Port | None:
        address = address if isinstance(address, PortAddress) else PortAddress.try_parse(address)
        if address is None:
            return None
        product = self.product(address.domain, address.product)
        return next((p for p in product.ports if p.name == address.port), None) if product else None

    # ---------------------------------------------------------------- agreements
    @property
    def agreements(self) -> list[Agreement]:
        """Every usage agreement of the mesh, with its approvals (read on first use)."""
        return self._agreement_files()[0]

    @property
    def agreement_problems(self) -> list[Problem]:
        """The problems of the agreement and approval files."""
        return self._agreement_files()[1]

    def _agreement_files(self) -> tuple[list[Agreement], list[Problem]]:
        if self._agreements is None:
            self._agreements = load_mesh_agreements(self.folders)
        return self._agreements

    def agreement(self, agreement_id: str) -> Agreement | None:
        return next((a for a in self.agreements if a.id == agreement_id), None)

    def agreements_for(self, address: PortAddress | str) -> list[Agreement]:
        """The agreements to read this output port."""
        return [a for a in self.agreements if a.provider_port == str(address)]

    def agreements_of(self, edge: Edge) -> list[Agreement]:
        """The agreements that cover a declared input port."""
        return [
            a
            for a in self.agreements_for(edge.written)
            if a.consumer_product == str(edge.consumer_address) and a.input_port == edge.input_port
        ]

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
        """The domain's own dbt source tables (from its manifest), each with file and line; not
        the ones the platform generates for input ports (their reads are the mesh_input() calls)."""
        if domain not in self._sources:
            manifest, project = self.manifest(domain), self.dbt_project_name(domain)
            nodes = [
                n
                for n in (manifest or {}).get("sources", {}).values()
                if n.get("package_name") == project and not is_generated(n)
            ]
            self._sources[domain] = [locate_source(self.domain(domain).dbt_project_dir, n) for n in nodes]
        return self._sources[domain]

    def python_tables(self, domain: str) -> list:
        """The ProductTables of ``domains/<domain>/assets.py``; SpecError if the file does not import."""
        if domain not in self._tables:
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
        """Every read edge of the mesh (dbt sources, ref()s across products, Python tables)."""
        return [e for name in self.domains for e in self._safe_reads(name)]

    @property
    def input_edges(self) -> list[Edge]:
        """Every input port declared by a product that is not retired (a retired product reads
        nothing): what the lifecycle and agreement rules judge."""
        return [
            self.declared_edge(product, i)
            for product in self.products
            if not product.retired
            for i in range(len(product.spec.inputPorts))
        ]

    def declared_edge(self, product: Product, index: int) -> Edge:
        """The edge of a product's input port ``index``, pointing at where its source is written."""
        port = product.spec.inputPorts[index]
        # `source` is lifted from the input port's customProperties: name where it is written.
        path = ("inputPorts", index, "source")
        where = product.doc.problem(lifted_paths(product.doc.data).get(path, path), "")
        return Edge(
            kind="input_port",
            written=port.source,
            producer=PortAddress.try_parse(port.source),
            consumer_domain=product.domain_name,
            consumer_product=product.name,
            input_port=port.name,
            reader=f"input port {port.name}",
            file=where.file,
            line=where.line,
            field=where.field,
            consumer=product,
        )

    def consumers_of(self, address: PortAddress | str, declared: bool = False) -> list[Edge]:
        """Who reads this output port, in every domain; ``declared``: the products of other
        domains that declare it as an input port, whether or not they read it yet."""
        address = address if isinstance(address, PortAddress) else PortAddress.parse(address)
        if declared:
            return [e for e in self.input_edges if e.producer == address and e.crosses_domains]
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
                columns = [p.physicalName or p.name for p in port.schema.properties or []]
                self._column_uses[edge] = relation_reads(domain.dbt_project_dir, edge.relation, columns)
        return self._column_uses[edge]

    def input_addresses(self, product: Product) -> list[PortAddress]:
        """The output ports a product declares as input ports (the ones that parse)."""
        return [a for p in product.spec.inputPorts if (a := PortAddress.try_parse(p.source)) is not None]

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
        for written, reader, file, line, field_ in self._dbt_reads(domain):
            for product, i in declared.get(written) or [(None, None)]:
                yield Edge(
                    kind="dbt_source",
                    written=written,
                    producer=PortAddress.try_parse(written),
                    consumer_domain=name,
                    consumer_product=product.name if product else None,
                    input_port=product.spec.inputPorts[i].name if product else None,
                    reader=reader,
                    file=file,
                    line=line,
                    field=field_,
                    consumer=product,
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
                    consumer=product,
                )

    def _dbt_reads(self, domain: Domain) -> Iterable[tuple[str, str, Path, int | None, str]]:
        """The ports the domain's models read with mesh_input(), and hand-written input-port sources."""
        manifest, project = self.manifest(domain.name), self.dbt_project_name(domain.name)
        yield from call_reads(input_calls(manifest, project, domain.dbt_project_dir))
        for source in self.dbt_sources(domain.name):  # validation refuses these: mesh_input() instead
            if source.input_port:
                yield source.input_port, f"source {source.name}", source.file, source.line, f"source {source.name}"

    def _product_reads(self, domain: Domain) -> Iterable[Edge]:
        """A product ref()-ing another product's output port model in the same domain, found by
        the walk that also gives Dagster its keys (mesh/dbt_lineage.py)."""
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
                    written=str(port.address),
                    producer=port.address,
                    consumer_domain=domain.name,
                    consumer_product=product_name,
                    input_port=None,
                    reader=f"ref {port.model}",
                    file=file,
                    line=relation_line(file, relation) if file.is_file() else None,
                    field=f"{', '.join(readers)}: ref('{port.model}')",
                    consumer=next(p for p in domain.products if p.name == product_name),
                )
