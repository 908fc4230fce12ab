"""One cached DbtProject per domain, and the dbt CLI resource that runs it."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from functools import cache, cached_property
from pathlib import Path

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from mesh_platform import settings
from mesh_platform.runtime.dbt_child import PARENT_ENV

PARTIAL_PARSE = "partial_parse.msgpack"
# a run's variables for dbt (mesh_partitions.sql): cleared for a run that does not set them
RUN_ENV = ("MESH_PARTITION_START", "MESH_PARTITION_END")


class MeshDbtProject(DbtProject):
    """dagster-dbt's DbtProject, shown in Dagster as its repo-relative folder.

    dagster-dbt keeps the project object in each dbt asset's definition metadata
    (`dagster_dbt/project`) so the run's `dbt.cli(context=...)` finds it; Dagster cannot
    serialise it and the UI showed `[DbtProject] (unserializable)`. Dagster records any
    `os.PathLike` metadata value as a path, so this is the same object in the run's process and
    `dbt_projects/<domain>` in the UI (see also translator.ManifestFile)."""

    def __fspath__(self) -> str:
        return settings.repo_relative(self.project_dir)


@cache
def dbt_project(project_dir: Path, target: str) -> DbtProject:
    settings.export_env()
    return MeshDbtProject(
        project_dir=project_dir, profiles_dir=project_dir, target=target, target_path=Path("target") / target
    )


class MeshDbtCli(DbtCliResource):
    """dagster-dbt's resource, minus one `dbt --version` and one in-process dbt adapter per run.

    dagster-dbt asks the dbt executable for its version on every invocation (it caches the answer
    on the resource, which Dagster builds anew for each run), and starting dbt to print it costs
    about 4 s of imports. Our executable is the dbt of this interpreter, whose version is the
    installed dbt-core's. Another executable is still asked. `_cli_version` is dagster-dbt's own
    name, so a test fails if an upgrade renames it.
    """

    def _initialize_dbt_core_adapter(self, args):
        """dagster-dbt loads dbt's project, profile and macros in the run's own process (about
        3.4 s of CPU per invocation, profiled) for an adapter that only `fetch_row_counts()` and
        `fetch_column_metadata()` use; the platform uses neither (row counts come from the
        audit). Without an adapter dagster-dbt runs dbt as usual. A dagster-dbt name, like
        `_cli_version`: the same test fails if an upgrade renames it."""
        return None

    def cli(self, args, *, env: dict[str, str] | None = None, **kwargs):
        """dagster-dbt starts dbt inside `cli()` with a copy of os.environ: for that one start,
        name this process as the run that mesh-dbt must die with (runtime/dbt_child.py) and set
        the run's own variables (`env`; the partition range: see partitions.RunRange)."""
        own = {PARENT_ENV: str(os.getpid()), **{name: "" for name in RUN_ENV}, **(env or {})}
        before = {name: os.environ.get(name) for name in own}
        os.environ.update(own)
        try:
            return super().cli(args, **kwargs)
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(os.path.abspath(self.dbt_executable)).parent == Path(os.path.abspath(sys.executable)).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return MeshDbtCli(
        project_dir=project,
        dbt_executable=settings.run_dbt_executable(),
        target=project.target,
        profiles_dir=str(project.profiles_dir),
    )


def reuse_parse(project_dir: str | Path, target: str) -> None:
    """Let a run's dbt partial-parse instead of parsing the whole project again.

    dagster-dbt gives every dbt invocation its own folder under `$DBT_TARGET_PATH` and copies
    `partial_parse.msgpack` from there into it; our manifests live in `target/<target>`, so
    point it there (dbt still re-parses whatever changed since, and checks vars and profile)."""
    os.environ["DBT_TARGET_PATH"] = str(Path(project_dir).resolve() / "target" / target)


def finish_run_folder(invocation: DbtCliInvocation) -> None:
    """dagster-dbt gives each dbt invocation a folder under `target/<target>` (a copy of the
    manifest and partial parse, compiled SQL, run results: about 2 MB) and never removes it, so
    the project grew with every run. A successful run's folder goes, and its partial parse becomes
    the next run's starting point (dbt checks it against the project, profile and env vars, so a
    run with another data dir than `mesh prepare`'s parses in full once, not every time); a failed
    run keeps its compiled SQL and dbt.log for whoever debugs it, the newest KEEP_FAILED of them."""
    folder = Path(invocation.project_dir) / invocation.target_path
    if invocation.is_successful():
        parsed = folder / PARTIAL_PARSE
        if parsed.exists():
            os.replace(parsed, folder.parent / PARTIAL_PARSE)  # the folder is inside target/<target>
        shutil.rmtree(folder, ignore_errors=True)
    prune_run_folders(folder.parent)


KEEP_FAILED = 20  # failed runs' dbt folders kept per project and target


def prune_run_folders(target_dir: Path, keep: int = KEEP_FAILED) -> list[Path]:
    """Remove all but the newest `keep` run folders in `target_dir` (every sub-folder is one:
    `dbt parse` keeps its own artifacts at the top and its work folder hidden); returns them."""
    folders = sorted(
        (f for f in target_dir.iterdir() if f.is_dir() and not f.name.startswith(".")),
        key=lambda f: f.stat().st_mtime,
        reverse=True,
    )
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return folders[keep:]
