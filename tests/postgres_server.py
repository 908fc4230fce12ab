"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries, `initdb` in a
temporary directory, listening on 127.0.0.1 at a free port, stopped after the session.

initdb and postgres refuse to run as root. As root (CI containers) the server runs as the
`postgres` system user that Debian's package creates; the data directory is handed to it.
`.ci/run` installs the package when `initdb` is missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "mesh"


def bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run does this)")
    return Path(candidates[-1]).parent


@dataclass
class PostgresServer:
    port: int
    data: Path
    run_as: list[str]

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database; with `template`, a file-level copy of that one (which must have no
        open connections): a fresh database that already holds a schema, in a fraction of a second."""
        import psycopg2

        con = psycopg2.connect(self.url())
        con.autocommit = True
        try:
            con.cursor().execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            con.close()
        return name

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"],
            capture_output=True,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)


def start(port: int) -> PostgresServer:
    """A server in a fresh directory directly under the system temp dir (pytest's own temp
    root is private to root, so the `postgres` user could not reach a directory inside it)."""
    base = Path(tempfile.mkdtemp(prefix="mesh-postgres-"))
    data, sockets, log = base / "pgdata", base / "sockets", base / "postgres.log"
    sockets.mkdir(exist_ok=True)
    run_as: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    bins = bin_dir()
    subprocess.run(
        [
            *run_as,
            str(bins / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    result = subprocess.run(
        [*run_as, str(bins / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"PostgreSQL did not start: {result.stdout}{result.stderr}{log.read_text() if log.exists() else ''}"
        )
    server = PostgresServer(port, data, run_as)
    deadline = time.monotonic() + 30
    while (
        subprocess.run([str(bins / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode
        != 0
    ):
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("PostgreSQL did not accept connections within 30 s")
        time.sleep(0.2)
    return server
