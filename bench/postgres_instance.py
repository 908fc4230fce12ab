"""A throwaway PostgreSQL server with the production Dagster instance on it, for the benchmarks.

The server is the tests' (tests/postgres_server.py: initdb in a temp dir, fsync off). The instance
is dagster_home/dagster.prod.yaml as deployed (the platform's run storage and event log,
dagster-postgres' schedule storage), or the same with dagster-postgres' own run storage and event
log (`storage="dagster"`), so the two differ in those two classes only. Each run gets a fresh database copied from a template that
already holds Dagster's schema (and the domains' pools, as deploy/ sets them): no run pays for
creating the schema or inherits another run's rows. The server's CPU time is read from /proc,
because a client's CPU alone hides the work a storage pushes into the database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import postgres_server  # noqa: E402
from conftest import free_port  # noqa: E402

PROD_YAML = ROOT / "dagster_home" / "dagster.prod.yaml"
OURS = {
    "module: mesh_platform.runtime.event_storage\n  class: MeshPostgresEventLogStorage\n": (
        "module: dagster_postgres.event_log\n  class: PostgresEventLogStorage\n"
    ),
    "module: mesh_platform.runtime.event_storage\n  class: MeshPostgresRunStorage\n": (
        "module: dagster_postgres.run_storage\n  class: PostgresRunStorage\n"
    ),
}
TEMPLATE = "bench_template"
TICK = os.sysconf("SC_CLK_TCK")

# Opens the instance once: Dagster creates and stamps its tables; then the pools deploy/ sets.
INIT = """
import sys
from mesh_platform.runtime.instance import open_instance
instance = open_instance()
for domain in sys.argv[1:]:
    instance.event_log_storage.set_concurrency_slots(f"mesh_domain_{domain}", 1)
instance.dispose()
"""


def instance_yaml(storage: str) -> str:
    """dagster.prod.yaml ("mesh"), or the same with dagster-postgres' own run storage and event
    log ("dagster")."""
    text = own = PROD_YAML.read_text()
    for ours, theirs in OURS.items():
        if ours not in text:
            raise SystemExit(f"{PROD_YAML} no longer selects the platform's storages as {__file__} expects")
        own = own.replace(ours, theirs)
    return {"mesh": text, "dagster": own}[storage]


@dataclass
class BenchPostgres:
    server: postgres_server.PostgresServer

    def connection_env(self, db: str) -> dict[str, str]:
        """The variables dagster.prod.yaml reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.server.port),
            "DAGSTER_PG_USERNAME": postgres_server.USER,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": db,
        }

    def run_on(self, storage: str, home: Path, run: Callable[[dict[str, str]], dict]) -> dict:
        """`run(env)`, a timed child (a dict with its "cpu"), on a fresh database of the `storage`
        instance (env: DAGSTER_HOME = `home` and the server's settings), plus the server's CPU
        seconds during it. The database is dropped afterwards, outside the measurement."""
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(instance_yaml(storage))
        db = self.server.create_database(f"bench_{uuid.uuid4().hex[:8]}", template=TEMPLATE)
        try:
            self.settle()
            before = self.cpu()
            result = run({"DAGSTER_HOME": str(home), **self.connection_env(db)})
            self.settle()
            server = self.cpu() - before
        finally:
            self.drop(db)
        return {**result, "server_cpu": server, "cpu_total": result["cpu"] + server}

    @property
    def pid(self) -> int:
        return int((self.server.data / "postmaster.pid").read_text().split()[0])

    def cpu(self) -> float:
        """CPU seconds of the postmaster, its exited (reaped) children and its live ones."""
        pid, ticks = self.pid, 0
        for child, fields in _processes():
            if child == pid or int(fields[1]) == pid:
                ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return ticks / TICK

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the clients' backends have exited and been reaped (a zombie's CPU time
        moves to the postmaster's when it is reaped: read in between, it could be missed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(_is_client_or_zombie(c, f) for c, f in self._children()):
            time.sleep(0.05)

    def _children(self) -> list[tuple[int, list[str]]]:
        pid = str(self.pid)
        return [(child, fields) for child, fields in _processes() if fields[1] == pid]

    def drop(self, db: str) -> None:
        import psycopg2

        con = psycopg2.connect(self.server.url())
        con.autocommit = True
        try:
            con.cursor().execute(f'DROP DATABASE IF EXISTS "{db}"')
        finally:
            con.close()

    def stop(self) -> None:
        self.server.stop()


def _processes() -> Iterable[tuple[int, list[str]]]:
    """(pid, /proc/<pid>/stat fields from the state on) of every process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        yield int(stat.parent.name), text.rsplit(")", 1)[1].split()


def _is_client_or_zombie(pid: int, fields: list[str]) -> bool:
    if fields[0] == "Z":
        return True
    try:
        return b"127.0.0.1(" in Path(f"/proc/{pid}/cmdline").read_bytes()  # "postgres: mesh db 127.0.0.1(port) idle"
    except OSError:
        return False


def start(domains: Iterable[str] = ()) -> BenchPostgres:
    """A server at a free port with the template database; stop() it when done."""
    pg = BenchPostgres(postgres_server.start(free_port()))
    home = Path(tempfile.mkdtemp(prefix="bench_pg_home_"))
    try:
        pg.server.create_database(TEMPLATE)
        (home / "dagster.yaml").write_text(instance_yaml("mesh"))
        env = {**os.environ, "DAGSTER_HOME": str(home), **pg.connection_env(TEMPLATE)}
        done = subprocess.run([sys.executable, "-c", INIT, *domains], env=env, cwd=ROOT, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"could not create Dagster's schema on PostgreSQL:\n{done.stderr.decode()[-3000:]}")
    except BaseException:
        pg.stop()
        raise
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return pg
