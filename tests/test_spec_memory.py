"""Loading the mesh again and again in one process (`mesh catalog serve --ttl 0` rebuilds on
every request) keeps memory flat: nothing the spec loader builds outlives the load.

The loads run in a fresh interpreter: an xdist worker's RSS also carries whatever the tests
before this one left in its heap (CI saw 13 MB of such drift in a worker, none alone)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

RELOADS = 100
MAX_GROWTH_MB = 10

_PROBE = textwrap.dedent(
    """
    import gc, sys
    from mesh_platform.mesh import Mesh

    def rss_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise SystemExit("no VmRSS in /proc/self/status")

    def load():
        mesh = Mesh.load()
        assert not mesh.load_problems, mesh.load_problems
        return len(mesh.ports)

    for _ in range(5):  # warm up: imports, the standards' JSON schemas, compiled validators
        ports = load()
    gc.collect()
    before = rss_mb()
    for _ in range(int(sys.argv[1])):
        assert load() == ports
    gc.collect()
    print(rss_mb() - before)
    """
)


def test_reloading_the_mesh_100_times_keeps_memory_flat():
    probe = subprocess.run([sys.executable, "-c", _PROBE, str(RELOADS)], cwd=ROOT, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    growth = float(probe.stdout.strip().splitlines()[-1])
    # Before the fix every load kept its YAML nodes alive: about 1 MB per load of this mesh.
    assert growth < MAX_GROWTH_MB, f"RSS grew by {growth:.1f} MB over {RELOADS} loads of the mesh"
