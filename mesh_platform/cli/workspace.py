"""Find domains and load their Definitions the way a code location would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

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
    """Parse the domain's dbt project so its manifest matches the SQL on disk.

    With `if_stale`, skip `dbt parse` when the manifest was built for the same target and is
    newer than every file of the dbt project (as `mesh materialize` does). The data dir only
    shows in the manifest's rendered paths; `dbt build` parses again with the live environment.
    """
    # lazy: dagster-dbt and the spec loader (ibis) cost seconds to import; `mesh seed` finds domains without them
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, prepare
    from mesh_platform.mesh.domain import load_domain  # lazy: see above
    from mesh_platform.publishing.dbt_files import write_dbt_files  # lazy: see above

    domain = domain or load_domain(domain_dir)
    project = dbt_project(domain.dbt_project_dir, settings.target())
    write_dbt_files(domain)  # before the staleness check: a changed inputPorts makes the manifest stale
    stamp = project.manifest_path.parent / ".mesh_prepared.json"
    key = {"target": settings.target()}
    if if_stale and project.manifest_path.exists() and stamp.exists():
        try:
            fresh = json.loads(stamp.read_text()) == key and project.manifest_path.stat().st_mtime >= max(
                f.stat().st_mtime for f in _project_files(Path(project.project_dir))
            )
        except (OSError, ValueError):
            fresh = False
        if fresh:
            return project.manifest_path
    path = prepare(project, domain)
    stamp.write_text(json.dumps(key))
    return path


def _project_files(project_dir: Path):
    yield project_dir / "dbt_project.yml"
    yield project_dir / "profiles.yml"
    # the project's folders, and every folder its macro-paths list (the platform's macros too)
    folders = [project_dir / f for f in ("models", "macros", "tests", "seeds", "snapshots")]
    try:
        config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
        folders += [(project_dir / p).resolve() for p in config.get("macro-paths") or [] if isinstance(p, str)]
    except (OSError, yaml.YAMLError):
        pass  # dbt parse reports a broken project file
    for folder in dict.fromkeys(folders):
        if folder.exists():
            yield from (f for f in folder.rglob("*") if f.is_file())
