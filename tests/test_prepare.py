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
