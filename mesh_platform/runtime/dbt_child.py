"""`mesh-dbt`: dbt that dies with the run that started it.

A run killed with `kill -9` used to leave its dbt running as an orphan. The domain's lock then
went to the next run while the orphan was still starting up, and the orphan, ahead in its
start-up, took DuckDB's file lock first: the next run's dbt failed with "Could not set lock"
(seen once the platform's per-run set-up got faster). This wrapper asks the kernel to SIGKILL
it when its parent dies (`PR_SET_PDEATHSIG`), then runs dbt's own command line in this process
and leaves it without the interpreter's teardown (runtime/fast_exit.py: ~0.8 s of a one-day
build). DuckDB's write-ahead log makes a killed writer as harmless as any crash.

A run killed in the ~0.1 s between starting this wrapper and its `prctl` left an orphan all the
same: the wrapper read its parent *after* the run had died, so it took init for the run. The run
therefore names itself in MESH_DBT_PARENT (dagster_wiring/dbt_project.py), and a wrapper whose
parent is not that process exits before dbt starts.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from mesh_platform.runtime import dbt_standby, fast_exit

PR_SET_PDEATHSIG = 1
PARENT_ENV = "MESH_DBT_PARENT"  # the pid of the run that starts this dbt


def main() -> None:
    named = os.environ.get(PARENT_ENV, "")
    parent = int(named) if named.isdigit() else os.getppid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took effect
            sys.exit("mesh-dbt: the run that started dbt is gone")
    sys.argv[0] = "dbt"  # what dbt's own executable passes: its messages name `dbt`
    code = dbt_standby.hand_over(sys.argv[1:], parent)  # a dbt already started by this run, if any
    if code is not None:
        os._exit(code)  # the standby wrote dbt's output on our streams; nothing of ours to flush
    fast_exit.run(_dbt)


def _dbt() -> None:
    from dbt.cli.main import cli  # lazy: after fast_exit's handler, so dbt's own run before it

    cli()


if __name__ == "__main__":
    main()
