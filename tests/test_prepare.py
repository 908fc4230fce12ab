"""`mesh materialize` parses a domain's dbt project only when its manifest is stale: when a
file of the project, or one of the platform's dbt macros it lists in macro-paths, changed."""

from __future__ import annotations

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
