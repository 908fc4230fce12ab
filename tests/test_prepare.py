"""`mesh materialize` parses a domain's dbt project only when its manifest is stale: when a
file of the project, or one of the platform's dbt macros it lists in macro-paths, changed."""

from __future__ import annotations

import json
import os
import shutil
import time

from governance_fixtures import ROOT, copy_mesh

from mesh_platform import settings
from mesh_platform.cli.workspace import prepare_domain


def test_a_fresh_manifest_is_reused_and_a_changed_platform_macro_makes_it_stale(mesh_data, tmp_path, monkeypatch):
    # a copy: touching the repository's macro would make every other test's manifest stale too
    copy_mesh(tmp_path)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp_path / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    domain = settings.domains_dir() / "checkout"
    manifest = prepare_domain(domain, if_stale=True)
    assert manifest.is_relative_to(tmp_path)
    built = manifest.stat().st_mtime_ns
    assert prepare_domain(domain, if_stale=True) == manifest
    assert manifest.stat().st_mtime_ns == built  # fresh: no dbt parse

    later = time.time() + 5
    os.utime(tmp_path / "mesh_platform" / "dbt_macros" / "mesh_partitions.sql", (later, later))
    prepare_domain(domain, if_stale=True)  # the platform's macro changed after the parse
    assert manifest.stat().st_mtime_ns > built  # parsed again


def test_a_parse_replaces_the_manifest_and_never_rewrites_it_in_place(mesh_data, tmp_path, monkeypatch):
    """A reader holding the old manifest (a code location, `mesh validate`, a copy of the project)
    reads all of it while `dagster dev` parses again: dbt's artifacts are swapped in whole."""
    copy_mesh(tmp_path)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp_path / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    domain = settings.domains_dir() / "checkout"
    manifest = prepare_domain(domain, if_stale=True)
    with manifest.open() as old:
        inode = os.fstat(old.fileno()).st_ino
        assert prepare_domain(domain) == manifest  # parses whether or not it is stale
        assert os.stat(manifest).st_ino != inode  # replaced, not rewritten
        assert json.loads(old.read())["metadata"]["project_name"] == "checkout"  # the old one, whole
    assert json.loads(manifest.read_text())["metadata"]["project_name"] == "checkout"
    assert not list(manifest.parent.glob(".parse-*"))  # the parse's own folder is gone


def test_under_dagster_dev_a_location_parses_only_a_stale_project(mesh_data, tmp_path, monkeypatch):
    """dagster-dbt re-parses on every code-location load under `dagster dev` (seconds per domain
    on each reload); ours reuses a manifest newer than every file of the project."""
    from mesh_platform.dagster_wiring.definitions import build_domain_definitions

    copy_mesh(tmp_path)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp_path / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    domain = settings.domains_dir() / "checkout"
    manifest = prepare_domain(domain, if_stale=True)
    built = manifest.stat().st_mtime_ns
    build_domain_definitions(domain)
    assert manifest.stat().st_mtime_ns == built  # fresh: no dbt parse

    model = next((tmp_path / "dbt_projects" / "checkout" / "models").rglob("*.sql"))
    later = time.time() + 5
    os.utime(model, (later, later))
    build_domain_definitions(domain)
    assert manifest.stat().st_mtime_ns > built  # a model changed: parsed again


def test_a_project_with_dbt_packages_gets_them_installed_before_the_parse(mesh_data, tmp_path, monkeypatch):
    """dagster-dbt's preparer ran `dbt deps` when a project lists packages; ours does too, and a
    changed packages.yml makes the manifest stale."""
    copy_mesh(tmp_path)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", tmp_path / "mesh_platform" / "dbt_macros")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    package = tmp_path / "shared_macros"
    (package / "macros").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: shared_macros\nversion: '1.0'\nconfig-version: 2\n")
    (package / "macros" / "greeting.sql").write_text("{% macro greeting() %}'hello'{% endmacro %}\n")
    project = tmp_path / "dbt_projects" / "checkout"
    domain = settings.domains_dir() / "checkout"
    manifest = prepare_domain(domain, if_stale=True)  # fresh as copied: no parse
    built = manifest.stat().st_mtime_ns

    (project / "packages.yml").write_text(f"packages:\n  - local: {package}\n")
    prepare_domain(domain, if_stale=True)  # stale: packages.yml is newer than the manifest
    assert manifest.stat().st_mtime_ns > built
    assert "macro.shared_macros.greeting" in json.loads(manifest.read_text())["macros"]


def test_a_prepared_project_that_moved_loads_its_seeds_from_where_it_is(tmp_path, monkeypatch):
    """A project parsed in one place (an image build, a copy) and run in another: dbt's partial
    parse keeps each seed's absolute path, so the parse forgets them (as dagster-dbt's preparer
    did) and dbt re-reads the seeds where the project now is."""
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource, reuse_parse

    built = tmp_path / "built"
    copy_mesh(built)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", built / "mesh_platform" / "dbt_macros")
    (built / "dbt_projects" / "checkout" / "seeds").mkdir()
    (built / "dbt_projects" / "checkout" / "seeds" / "currencies.csv").write_text("code,name\nEUR,Euro\nUSD,Dollar\n")
    monkeypatch.setenv("MESH_ROOT", str(built))
    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    monkeypatch.setenv("MESH_DATA_DIR", str(data))
    monkeypatch.setenv("DBT_TARGET_PATH", "")  # reuse_parse sets it; restored after the test
    prepare_domain(settings.domains_dir() / "checkout")

    deployed = tmp_path / "deployed"
    shutil.copytree(built, deployed, symlinks=True)
    shutil.rmtree(built)  # the build's folder is gone where the project runs
    monkeypatch.setenv("MESH_ROOT", str(deployed))
    project = dbt_project(deployed / "dbt_projects" / "checkout", settings.target())
    reuse_parse(project.project_dir, project.target)
    seeded = dbt_resource(project).cli(["seed"], raise_on_error=False)
    seeded.wait()
    assert seeded.is_successful(), seeded.get_error()
