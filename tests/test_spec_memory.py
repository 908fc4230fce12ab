"""Loading the mesh again and again in one process (`mesh catalog serve --ttl 0` rebuilds on
every request) keeps memory flat: nothing the spec loader builds outlives the load."""

from __future__ import annotations

import gc

from mesh_platform.mesh import Mesh

RELOADS = 100
MAX_GROWTH_MB = 10


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _load_everything() -> int:
    mesh = Mesh.load()
    assert not mesh.load_problems, mesh.load_problems
    return len(mesh.ports)


def test_reloading_the_mesh_100_times_keeps_memory_flat():
    for _ in range(5):  # warm up: imports, the standards' JSON schemas, compiled validators
        ports = _load_everything()
    gc.collect()
    before = _rss_mb()
    for _ in range(RELOADS):
        assert _load_everything() == ports
    gc.collect()
    growth = _rss_mb() - before
    # Before the fix every load kept its YAML nodes alive: about 1 MB per load of this mesh.
    assert growth < MAX_GROWTH_MB, f"RSS grew by {growth:.1f} MB over {RELOADS} loads of the mesh"
