"""A dbt that has already started: a run's dbt imports itself while the run starts up.

A one-day `mesh materialize` at scale 1 spent its first ~3 s importing Dagster, loading the
domain's definitions and starting the run, on one of the machine's two cores; then dagster-dbt
started dbt, which spent another 1.35 s importing itself before its first line (profiled), while
the run only waited. So `mesh materialize` starts a standby first thing: a process that imports
dbt beside the run's own start-up and waits. When dagster-dbt starts `mesh-dbt` (dbt_child.py),
mesh-dbt hands its command line, environment, working folder and standard streams to a standby,
which runs dbt as if it were mesh-dbt, and mesh-dbt exits with dbt's code. With no standby
ready (a second dbt invocation of one batch, a run launched from the UI), mesh-dbt runs dbt
itself, as before.

Safety. The standbys' sockets live in a folder only this user can open (0700), and a standby
serves only a peer of its own uid, once. A standby dies with the process that started it
(`PR_SET_PDEATHSIG`), and with the mesh-dbt it serves: when that mesh-dbt dies (a killed run),
its end of the socket closes and the standby kills itself, so no dbt outlives its run. SIGINT and
SIGTERM sent to mesh-dbt (dagster-dbt's interrupt) are passed on to the standby's dbt.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from mesh_platform.runtime import startup_gc

ENV = "MESH_DBT_STANDBY"  # "<pid>:<folder>": the process whose dbt the standbys in the folder serve
PR_SET_PDEATHSIG = 1
_HEADER, _READY = struct.Struct("!I"), struct.Struct("!ci")  # a command's length; "R" + the standby's pid

_started: list[tuple[subprocess.Popen, str]] = []  # each standby and its socket
_folder: str | None = None  # this process's folder of sockets (a child of a run gets its own)


def start() -> None:
    """Start a standby for a dbt invocation this process will make, unless one is still waiting
    (at most one idle standby per process). Linux only: it relies on PR_SET_PDEATHSIG and
    passing file descriptors. The first call creates this process's private folder and names it
    in the environment, which dagster-dbt's dbt inherits."""
    global _folder
    if not sys.platform.startswith("linux") or os.environ.get("MESH_DBT_NO_STANDBY"):
        os.environ.pop(ENV, None)
        return
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="mesh-dbt-")  # 0700
        atexit.register(_stop, _folder)
    os.environ[ENV] = f"{os.getpid()}:{_folder}"  # a child's own dbt runs cold unless it starts its own
    if any(process.poll() is None and Path(path).exists() for process, path in _started):
        return  # one is still waiting (a served standby has removed its socket)
    path = os.path.join(_folder, f"{len(_started)}.sock")
    # listening from now on (a mesh-dbt that comes before dbt is imported waits for it)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        process = subprocess.Popen(
            [sys.executable, "-m", "mesh_platform.runtime.dbt_standby", path, str(server.fileno()), str(os.getpid())],
            pass_fds=[server.fileno()],
            cwd=_folder,  # nothing importable shadows dbt's modules
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None,  # a standby that cannot start says why on the run's stderr
        )
    _started.append((process, path))


def _stop(folder: str) -> None:
    for process, _ in _started:
        with contextlib.suppress(OSError):
            process.kill()
            process.wait(timeout=5)
    shutil.rmtree(folder, ignore_errors=True)


def hand_over(argv: list[str], parent: int) -> int | None:
    """In mesh-dbt, started by `parent`: have a standby that `parent` started run dbt with `argv`
    and this process's environment, working folder and standard streams; dbt's exit code, or None
    when no standby took it (mesh-dbt then runs dbt itself)."""
    owner, _, folder = os.environ.pop(ENV, "").partition(":")
    if owner != str(parent) or os.environ.get("MESH_DBT_NO_STANDBY"):
        return None
    for path in sorted(Path(folder).glob("*.sock")):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(path))
            if _peer(conn)[1] != os.getuid():
                raise PermissionError(f"{path} is not this user's")
            payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
            socket.send_fds(conn, [_HEADER.pack(len(payload))], [0, 1, 2])
            conn.sendall(payload)
            ready, pid = _READY.unpack(_recv_exactly(conn, _READY.size))
            if ready != b"R":
                raise ConnectionError(f"{path}: not a standby's answer")
        except (OSError, struct.error):  # taken by another mesh-dbt, or it died starting
            conn.close()
            continue
        return _wait(conn, pid)
    return None


def _wait(conn: socket.socket, pid: int) -> int:
    """dbt's exit code; an interrupt of this mesh-dbt goes to the standby's dbt. (The socket's
    peer credentials name the run, which listened on it, so the standby says its own pid.)"""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, _frame: os.kill(pid, number))
    try:
        return struct.unpack("!i", _recv_exactly(conn, 4))[0]
    except ConnectionError:
        print("mesh-dbt: dbt's standby ended without an exit code", file=sys.stderr)
        return 1


def _peer(conn: socket.socket) -> tuple[int, int, int]:
    return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))


def _serve(path: str, listening: int, parent: int) -> None:
    """The standby: import dbt, run one command for a peer of this uid, report its code."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return  # the run is already gone
    startup_gc.pause()  # until dbt is imported (startup_gc.py)
    server = socket.socket(fileno=listening)
    from dbt.cli.main import cli  # lazy: dbt is what a standby imports ahead of its command, and only it

    from mesh_platform.runtime import fast_exit  # lazy: after dbt's imports, as in mesh-dbt

    with contextlib.suppress(ImportError):
        import dbt.adapters.duckdb  # noqa: F401 - lazy: the dev target's adapter, imported ahead too
    while True:
        conn, _ = server.accept()
        if _peer(conn)[1] == os.getuid():
            break
        conn.close()
    os.unlink(path)  # taken: a mesh-dbt connecting now goes on to another standby
    server.close()
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
    header += _recv_exactly(conn, _HEADER.size - len(header))
    request = json.loads(_recv_exactly(conn, _HEADER.unpack(header)[0]))
    conn.sendall(_READY.pack(b"R", os.getpid()))
    threading.Thread(target=_die_with, args=(conn,), name="mesh-dbt-client", daemon=True).start()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.argv = ["dbt", *request["argv"]]
    startup_gc.settle()
    fast_exit.run(cli, report=lambda code: conn.sendall(struct.pack("!i", code)))


def _die_with(conn: socket.socket) -> None:
    """mesh-dbt sends nothing more: its end closes when it exits or is killed, and a dbt whose
    mesh-dbt is gone must not run on (the run's lock on the warehouse went with it)."""
    with contextlib.suppress(OSError):
        conn.recv(1)
    os.kill(os.getpid(), signal.SIGKILL)


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the other end left mid-message")
        data += chunk
    return data


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
