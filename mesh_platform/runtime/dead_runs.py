"""Find runs whose process died (kill -9, OOM, power loss), mark them failed and free their slots.

Dagster's run monitoring frees the pool slots of runs that *ended* and times out runs stuck
STARTING, but it only checks whether a started run's worker is alive for launchers that
support health checks (the default launcher does not), and in-process runs (`mesh
materialize`, tests) have no launcher at all. A dead run then stays STARTED for ever and
keeps its domain's pool slot, so the next run of that domain waits for ever.

Our own detection, for exactly those runs:
- an in-process run carries the tag `mesh/liveness` naming a lock file its process holds
  with `flock` for as long as it lives; the kernel drops the lock when the process dies, so
  "we can take the lock" means "the process is gone" (no pid-reuse races);
- a run started by the default launcher records "Started process for run (pid: N)"; on
  this host, a pid that no longer exists (or is a zombie) means the worker is gone.
`mesh materialize` reaps before it starts; in `make dev` each domain's sensor reaps that
domain's runs.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import uuid
from pathlib import Path

import dagster as dg

LIVENESS_TAG = "mesh/liveness"
HOST_TAG = "mesh/host"
_ACTIVE = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_PID = re.compile(r"Started process for run \(pid: (\d+)\)")
_held: dict[str, int] = {}  # liveness dir:pid -> fd held by that process
_held_token: dict[str, str] = {}  # liveness dir:pid -> that process's token


def _liveness_dir(instance: dg.DagsterInstance) -> Path:
    return Path(instance.root_directory) / "mesh_liveness"


def liveness_tags(instance: dg.DagsterInstance) -> dict[str, str]:
    """Tags for an in-process run: a lock file this process holds until it exits."""
    directory = _liveness_dir(instance)
    key = f"{directory}:{os.getpid()}"  # a forked child needs its own token: it inherits the parent's lock
    if key not in _held or not _token_path(directory, _held_token[key]).exists():
        directory.mkdir(parents=True, exist_ok=True)
        token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        fd = os.open(_token_path(directory, token), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key], _held_token[key] = fd, token
    return {LIVENESS_TAG: _held_token[key], HOST_TAG: socket.gethostname()}


def _token_path(directory: Path, token: str) -> Path:
    return directory / f"{os.path.basename(token)}.lock"


def _token_alive(directory: Path, token: str) -> bool:
    if _held_token.get(f"{directory}:{os.getpid()}") == token:
        return True
    path = _token_path(directory, token)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)  # its process is gone: nothing will use it again
    return False


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
    except OSError:
        return True


def run_is_dead(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why the run's process is known to be gone, or None (alive, or not ours to judge)."""
    token = run.tags.get(LIVENESS_TAG)
    if token:
        if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            return None
        if not _token_alive(_liveness_dir(instance), token):
            return f"its process ({token}) is gone"
        return None
    if run.status != dg.DagsterRunStatus.STARTED or type(instance.run_launcher).__name__ != "DefaultRunLauncher":
        return None
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        match = _PID.search(record.message or "")
        if match and not _pid_alive(int(match.group(1))):
            return f"its run worker (pid {match.group(1)}) is gone"
    return None


def reap_dead_runs(instance: dg.DagsterInstance, domain: str | None = None, log=None) -> list[str]:
    """Mark every dead active run (of `domain`, if given) failed and free its pool slots."""
    filters = dg.RunsFilter(statuses=_ACTIVE, tags={"domain": domain} if domain else {})
    reaped = []
    for run in instance.get_runs(filters=filters):
        reason = run_is_dead(instance, run)
        if reason is None:
            continue
        message = f"run {run.run_id} marked failed: {reason}; its pool slots were freed"
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        if log:
            log(message)
        reaped.append(run.run_id)
    return reaped
