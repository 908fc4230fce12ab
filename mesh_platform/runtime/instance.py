"""The Dagster instance of DAGSTER_HOME, created safely when two commands start at once.

On a fresh DAGSTER_HOME, Dagster's SQLite storages create their files and stamp their schema
version when the instance is first opened; two processes doing that together race (one dies
with `table alembic_version already exists`). Opening under an exclusive lock on a file in
DAGSTER_HOME makes the first one create the storages and the second one find them.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import dagster as dg

LOCK = ".mesh_instance_init.lock"


def open_instance() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.get()  # Dagster's own error names what is missing
    # Dagster refuses a relative DAGSTER_HOME with a traceback; it means the folder from here
    home = os.environ["DAGSTER_HOME"] = os.path.abspath(home)
    Path(home).mkdir(parents=True, exist_ok=True)
    with open(Path(home) / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        instance = dg.DagsterInstance.get()
        # every storage opened (and so created) while the lock is held
        instance.run_storage, instance.event_log_storage, instance.schedule_storage  # noqa: B018
        return instance
