"""Parse a domain's dbt project into `target/<target>`: only when stale, and atomically.

dbt writes `manifest.json` in place. A code location, `mesh validate` or a copy of the project
reading it while `dagster dev` re-parses saw half a file (a JSONDecodeError in CI), so the parse
runs in a folder of its own and its artifacts replace the old ones with `os.replace`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgpack
import yaml
from dagster_dbt import DbtProject

from mesh_platform import settings
from mesh_platform.dagster_wiring.dbt_project import dbt_resource, reuse_parse
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.domain import Domain
from mesh_platform.publishing.dbt_files import write_dbt_files

# what `dbt parse` writes that later readers use; partial_parse.msgpack last: a reader that
# finds it new also finds the manifest it belongs to
ARTIFACTS = ("manifest.json", "semantic_manifest.json", "partial_parse.msgpack")
STAMP = ".mesh_prepared.json"
PACKAGE_FILES = ("packages.yml", "dependencies.yml", "package-lock.yml")  # dbt deps' inputs


def prepare(project: DbtProject, domain: Domain | None = None, if_stale: bool = False) -> Path:
    """Build the manifest (`dbt parse`), the domain's generated dbt files first (input_sources.py).

    With `if_stale`, skip the parse when the manifest was built for the same target and is newer
    than every file of the dbt project (the data dir only shows in the manifest's rendered
    paths; a run under another data dir parses in full once: dbt_project.finish_run_folder)."""
    settings.export_env()
    write_dbt_files(domain or _domain_of(project))  # before the check: a changed inputPorts makes it stale
    if if_stale and is_fresh(project):
        return project.manifest_path
    _parse_atomically(project)
    return project.manifest_path


def prepare_if_dev(project: DbtProject, domain: Domain) -> None:
    """Under `dagster dev`, re-parse a project whose files changed since its last parse (dagster-dbt's
    `prepare_if_dev` parses on every load: seconds per location, and in place)."""
    if project.preparer.using_dagster_dev():
        prepare(project, domain, if_stale=True)


def is_fresh(project: DbtProject) -> bool:
    manifest, stamp = Path(project.manifest_path), Path(project.manifest_path).parent / STAMP
    try:
        return json.loads(stamp.read_text()) == _stamp(project) and manifest.stat().st_mtime >= max(
            f.stat().st_mtime for f in project_files(Path(project.project_dir))
        )
    except (OSError, ValueError):
        return False


def _parse_atomically(project: DbtProject) -> None:
    final = Path(project.manifest_path).parent
    work = final / f".parse-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        reuse_parse(project.project_dir, project.target)  # dbt partial-parses from the last parse
        if any((Path(project.project_dir) / name).exists() for name in PACKAGE_FILES):
            # as dagster-dbt's preparer does: `dbt deps` is quick when the packages are current
            dbt_resource(project).cli(["deps", "--quiet"], target_path=work).wait()
        dbt_resource(project).cli(["parse", "--quiet"], target_path=work).wait()
        _forget_seed_paths(work / "partial_parse.msgpack")
        for name in ARTIFACTS:
            if (work / name).exists():
                os.replace(work / name, final / name)
        stamp = work / STAMP
        stamp.write_text(json.dumps(_stamp(project)))
        os.replace(stamp, final / STAMP)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _forget_seed_paths(partial_parse: Path) -> None:
    """dbt's partial parse keeps each seed's absolute root path, so a project parsed in one place
    (an image build, a copy) loads its seeds from the old place. Give each seed file a checksum no
    file has: dbt re-parses the seeds alone where the project now is (as dagster-dbt's preparer
    does)."""
    if not partial_parse.exists():
        return
    with partial_parse.open("rb") as f:
        data = msgpack.unpack(f, raw=False, strict_map_key=False)
    seeds = [e for e in (data.get("files") or {}).values() if e.get("parse_file_type") == "seed"]
    if not seeds:
        return
    for entry in seeds:
        entry["checksum"] = {"name": "sha256", "checksum": "0" * 64}
    with partial_parse.open("wb") as f:
        msgpack.pack(data, f)


def _stamp(project: DbtProject) -> dict:
    return {"target": project.target}


def project_files(project_dir: Path) -> Iterator[Path]:
    yield project_dir / "dbt_project.yml"
    yield project_dir / "profiles.yml"
    yield from (project_dir / name for name in PACKAGE_FILES if (project_dir / name).exists())
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


def _domain_of(project: DbtProject) -> Domain:
    project_dir = Path(project.project_dir).resolve()
    for domain in Mesh.load().domains.values():
        if domain.dbt_project_dir.resolve() == project_dir:
            return domain
    raise LookupError(f"no domain under {settings.domains_dir()} has the dbt project {project_dir}")
