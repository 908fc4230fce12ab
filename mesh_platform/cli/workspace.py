"""Find domains and load their Definitions the way a code location would."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mesh_platform import settings
from mesh_platform.importing import import_file

if TYPE_CHECKING:  # annotations only: `mesh seed` finds domains without Dagster
    import dagster as dg


def domain_dirs(only: str | None = None) -> list[Path]:
    dirs = sorted(p.parent for p in settings.domains_dir().glob(f"*/{settings.DOMAIN_FILE}"))
    if only:
        dirs = [d for d in dirs if d.name == only]
        if not dirs:
            known = ", ".join(p.parent.name for p in settings.domains_dir().glob(f"*/{settings.DOMAIN_FILE}"))
            raise LookupError(f"no domain {only!r} under {settings.domains_dir()} (domains: {known})")
    return dirs


def load_definitions(domain_dir: Path) -> dg.Definitions:
    """Import domains/<d>/definitions.py as its own module, as `dagster dev` does."""
    return import_file(domain_dir / "definitions.py", f"mesh_domain_{domain_dir.name}").defs


load_module = import_file  # a domain file (seed.py, definitions.py) as a module


def prepare_domain(domain_dir: Path, if_stale: bool = False, domain=None) -> Path:
    """Parse the domain's dbt project so its manifest matches the SQL on disk; with `if_stale`
    only when a file of the project changed since the last parse (as `mesh materialize` does)."""
    # lazy: dagster-dbt and the spec loader (ibis) cost seconds to import; `mesh seed` finds domains without them
    from mesh_platform.dagster_wiring.dbt_parse import prepare
    from mesh_platform.dagster_wiring.dbt_project import dbt_project  # lazy: see above
    from mesh_platform.mesh.domain import load_domain  # lazy: see above

    domain = domain or load_domain(domain_dir)
    return prepare(dbt_project(domain.dbt_project_dir, settings.target()), domain, if_stale=if_stale)
