"""What policies read: every domain's loaded specs, their load problems, consumers of each port,
and (on demand) each domain's dbt manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from mesh_platform import settings
from mesh_platform.specs.errors import SpecError, SpecProblem
from mesh_platform.specs.loader import Domain, Port, Product, load_domain


@dataclass(frozen=True)
class Consumer:
    """A product reading an output port through one of its input ports."""

    product: Product
    input_index: int

    @property
    def input_port(self) -> str:
        return self.product.spec.inputPorts[self.input_index].name

    @property
    def team(self) -> str:
        return self.product.team.name

    @property
    def address(self) -> str:
        return f"{self.product.domain_name}.{self.product.name}"


@dataclass
class MeshView:
    domains: list[Domain]
    load_problems: dict[str, list[SpecProblem]] = field(default_factory=dict)
    manifest_of: Callable[[Domain], dict[str, Any] | None] | None = None

    @cached_property
    def ports(self) -> dict[str, Port]:
        return {port.address: port for d in self.domains for port in d.ports()}

    def consumers(self, address: str) -> list[Consumer]:
        out = []
        for domain in self.domains:
            for product in domain.products:
                for i, input_port in enumerate(product.spec.inputPorts):
                    if input_port.source == address:
                        out.append(Consumer(product, i))
        return out

    def manifest(self, domain: Domain) -> dict[str, Any] | None:
        return self.manifest_of(domain) if self.manifest_of else None


def load_view(domains_dir: Path | None = None, only: str | None = None,
              manifest_of: Callable[[Domain], dict[str, Any] | None] | None = None) -> MeshView:
    """Load every domain; a domain that does not load keeps its problems for the report."""
    domains_dir = Path(domains_dir or settings.domains_dir())
    loaded, problems = [], {}
    for domain_dir in sorted(p.parent for p in domains_dir.glob("*/domain.yaml")):
        if only and domain_dir.name != only:
            continue
        try:
            loaded.append(load_domain(domain_dir))
        except SpecError as exc:
            problems[domain_dir.name] = exc.problems
    return MeshView(domains=loaded, load_problems=problems, manifest_of=manifest_of)


def manifest_from_target(domain: Domain) -> dict[str, Any] | None:
    """The domain's parsed dbt manifest, parsing the project first when it is stale."""
    from mesh_platform.cli.workspace import prepare_domain
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, load_manifest

    prepare_domain(domain.dir, if_stale=True)
    return load_manifest(dbt_project(domain.dbt_project_dir, settings.target()))
