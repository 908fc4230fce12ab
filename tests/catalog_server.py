"""`mesh catalog serve` in a subprocess on a free port, for the catalog's HTTP and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from conftest import ROOT, free_port


@contextmanager
def serve_catalog(env: dict[str, str], log_file: Path, ttl: int):
    """Yield the server's URL once it answers; `env` points it at a mesh and instance, `ttl` is
    how long (s) it keeps one built catalog. The server's output goes to `log_file`."""
    port = free_port()
    env = {**os.environ, **env, "MESH_UI_URL": "http://127.0.0.1:3999"}
    with open(log_file, "w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "mesh"), "catalog", "serve", "--port", str(port), "--ttl", str(ttl)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert proc.poll() is None, log_file.read_text()
                try:
                    if requests.get(f"{url}/api/edges", timeout=30).ok:
                        break
                except requests.RequestException:
                    time.sleep(1)
            else:
                raise AssertionError(f"catalog did not start:\n{log_file.read_text()}")
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
