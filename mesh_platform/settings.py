"""Where things live. One place decides paths so the CLI, Dagster and tests agree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mesh_platform.safe_paths import inside

REPO_ROOT = Path(__file__).resolve().parent.parent
# A domain's files: domains/<domain>/{domain.yaml, assets.py (its Python tables),
# products/<product>/{dataproduct.yaml, contracts/<name>.odcs.yaml}}.
DOMAIN_FILE = "domain.yaml"
ASSETS_FILE = "assets.py"
DESCRIPTOR_FILE = "dataproduct.yaml"
CONTRACT_SUFFIX = ".odcs.yaml"


def repo_root() -> Path:
    return Path(os.environ.get("MESH_ROOT", REPO_ROOT)).resolve()


def repo_relative(path: str | Path) -> str:
    """A path as shown to people (Dagster metadata, catalog): relative to the repository when
    it is inside it, so no machine's clone location leaks into what is recorded."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(repo_root()))
    except ValueError:
        return str(path)


def data_dir() -> Path:
    """Landing files, DuckDB warehouses and published snapshots (MESH_DATA_DIR)."""
    return Path(os.environ.get("MESH_DATA_DIR", repo_root() / "data")).resolve()


def domains_dir() -> Path:
    return repo_root() / "domains"


def dbt_projects_dir() -> Path:
    return repo_root() / "dbt_projects"


def landing_dir(domain: str) -> Path:
    return _inside(data_dir() / "landing", domain)


def warehouse_path(domain: str) -> Path:
    """Each domain owns one DuckDB file: DuckDB allows one writing process per file."""
    return _inside(data_dir() / "warehouse", f"{domain}.duckdb")


def published_dir(domain: str, product: str, port: str) -> Path:
    return _inside(data_dir() / "published", domain, product, port)


def _inside(root: Path, *parts: str) -> Path:
    return inside(root, *parts)


def target() -> str:
    """dbt target: dev (DuckDB) unless MESH_TARGET says otherwise."""
    return os.environ.get("MESH_TARGET", "dev")


def dbt_executable() -> str:
    """The dbt next to the running interpreter, so an un-activated virtualenv works."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt_executable() -> str:
    """What a run starts: `mesh-dbt`, the dbt that dies with its run (runtime/dbt_child.py)."""
    candidate = Path(sys.executable).parent / "mesh-dbt"
    return str(candidate) if candidate.exists() else dbt_executable()


def export_env() -> None:
    """Make dbt subprocesses see what we see: MESH_DATA_DIR, and the dbt of this interpreter
    first on PATH (dagster-dbt's project preparer looks dbt up on PATH)."""
    os.environ["MESH_DATA_DIR"] = str(data_dir())
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path
