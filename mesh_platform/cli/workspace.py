"""Find domains and load their Definitions the way a code location would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import dagster as dg

from mesh_platform import settings


def domain_dirs(only: str | None = None) -> list[Path]:
    dirs = sorted(p.parent for p in settings.domains_dir().glob("*/domain.yaml"))
    if only:
        dirs = [d for d in dirs if d.name == only]
        if not dirs:
            known = ", ".join(p.parent.name for p in settings.domains_dir().glob("*/domain.yaml"))
            raise LookupError(f"no domain {only!r} under {settings.domains_dir()} (domains: {known})")
    return dirs


def load_definitions(domain_dir: Path) -> dg.Definitions:
    """Import domains/<d>/definitions.py as its own module, as `dagster dev` does."""
    name = f"mesh_domain_{domain_dir.name}"
    spec = importlib.util.spec_from_file_location(name, domain_dir / "definitions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.defs


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_domain(domain_dir: Path) -> Path:
    """Parse the domain's dbt project so its manifest matches the SQL on disk."""
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, prepare
    from mesh_platform.specs.loader import load_domain

    domain = load_domain(domain_dir)
    return prepare(dbt_project(domain.dbt_project_dir, settings.target()))
