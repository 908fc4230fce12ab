"""`mesh materialize` parses a domain's dbt project only when its manifest is stale: when a
file of the project, or one of the platform's dbt macros it lists in macro-paths, changed."""

from __future__ import annotations

import os
import time

from mesh_platform import settings
from mesh_platform.cli.workspace import prepare_domain

MACROS = settings.repo_root() / "mesh_platform" / "dbt_macros" / "mesh_partitions.sql"


def test_a_fresh_manifest_is_reused_and_a_changed_platform_macro_makes_it_stale(mesh_data):
    domain = settings.domains_dir() / "checkout"
    manifest = prepare_domain(domain, if_stale=True)
    built = manifest.stat().st_mtime_ns
    assert prepare_domain(domain, if_stale=True) == manifest
    assert manifest.stat().st_mtime_ns == built  # fresh: no dbt parse

    stat = MACROS.stat()
    try:
        later = time.time() + 5
        os.utime(MACROS, (later, later))  # the platform's macro changed after the parse
        prepare_domain(domain, if_stale=True)
        assert manifest.stat().st_mtime_ns > built  # parsed again
    finally:
        os.utime(MACROS, ns=(stat.st_atime_ns, stat.st_mtime_ns))
