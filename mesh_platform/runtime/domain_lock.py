"""One writer per domain DuckDB file, whatever launched the run and whatever the instance config.

DuckDB allows one writing process per file. The dev `dagster.yaml` serialises a domain's runs
with pools and tag limits, but headless use (no config), tests and runs launched outside the
queue do not pass through those. So every step that writes a domain's warehouse holds an
exclusive `flock` on `<warehouse>/<domain>.lock` for its whole duration: the kernel releases it
when the process ends, even on `kill -9`, so a crashed writer never leaves the lock behind.
A writer killed with `kill -9` takes its dbt with it (runs start `mesh-dbt`, runtime/dbt_child.py);
any other process still holding DuckDB's own file lock shows there, and the next holder waits.
The lock file names the holder (run id, pid, since), for the waiting run's message.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mesh_platform import settings

DEFAULT_TIMEOUT_S = float(os.environ.get("MESH_DOMAIN_LOCK_TIMEOUT", 6 * 3600))
POLL_S = 0.2


class DomainBusy(RuntimeError):
    """The domain is being written by another run and did not become free in time."""


def lock_path(domain: str) -> Path:
    return settings.warehouse_path(domain).with_suffix(".lock")


def holder(domain: str) -> dict | None:
    """Who holds (or last held) the domain's lock, as written by the holder; None if unknown."""
    try:
        text = lock_path(domain).read_text(encoding="utf-8").strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def describe(domain: str, info: dict | None) -> str:
    if not info:
        return f"{domain} is being written by another process"
    return (
        f"{domain} is being written by run {info.get('run_id', '?')} since {info.get('since', '?')} "
        f"(pid {info.get('pid', '?')} on {info.get('host', '?')})"
    )


@contextmanager
def domain_writer(
    domain: str, run_id: str, *, timeout: float | None = None, log: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the domain's write lock; wait for it (up to `timeout` seconds), saying who holds it."""
    timeout = DEFAULT_TIMEOUT_S if timeout is None else timeout
    path = lock_path(domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = describe(domain, holder(domain))
            if log:
                log(f"{message}; waiting up to {timeout:g} s")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DomainBusy(
                            f"{describe(domain, holder(domain))}; gave up after "
                            f"{timeout:g} s (MESH_DOMAIN_LOCK_TIMEOUT)"
                        ) from None
                    time.sleep(POLL_S)
        _wait_for_database_lock(domain, deadline_s=timeout, log=log)
        info = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _wait_for_database_lock(domain: str, deadline_s: float, log) -> None:
    """Wait until no other process holds DuckDB's own (POSIX) lock on the domain file."""
    database = settings.warehouse_path(domain)
    if not database.exists():
        return
    deadline = time.monotonic() + deadline_s
    said = False
    while True:
        fd = os.open(database, os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return  # closing the descriptor releases the probe's lock
        except OSError:
            if not said and log:
                log(f"{database} is still open in another process (an orphaned writer?); waiting")
                said = True
            if time.monotonic() >= deadline:
                raise DomainBusy(f"{database} is held open by another process") from None
        finally:
            os.close(fd)
        time.sleep(POLL_S)
