"""A local BigQuery API emulator (bqemulator, PyPI) for the prod-path tests.

The emulator needs duckdb 1.5.x (we pin 2.0), so it gets its own virtualenv under
`.cache/bqemulator-<hash of the lock>/`, built once from `bigquery_emulator.lock` with
`--no-deps` (no resolver run) and reused by every later session. Its DuckDB spatial
extension cannot be downloaded here: it is installed from the `duckdb-extension-spatial`
wheel's file into a private HOME inside that cache dir.

Emulator gaps worked around here (and only here; listed in docs/production.md, *The emulator's gaps*):
- load jobs: the Python client declares the media part of an upload as `*/*`, which the
  emulator refuses -> in this process the client declares `application/octet-stream`
  (`accept_load_jobs`); a load job does not create its table -> `load_parquet` creates it first;
- the Storage Read API cannot read query results (anonymous tables) -> clients read
  results over REST (`RowIterator._should_use_bqstorage` returns False in this process);
- a dry run reports no `referencedTables` -> in this process a dry-run job's referenced
  tables are read from its SQL (`report_referenced_tables`);
- dbt's enforced-contract DDL `CREATE OR REPLACE TABLE t (<columns>) AS SELECT` fails in the
  emulator's translation -> `mesh_root` gives each dbt project a `bigquery__create_table_as`
  macro without the column list (dbt still compares the query's columns and types with the
  contract first, so a contract mismatch still fails the build).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LOCK = Path(__file__).with_name("bigquery_emulator.lock")
PROJECT = "mesh-emulator"
TOKEN = "emulator-token"  # the emulator accepts any bearer token


def cache_dir() -> Path:
    key = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
    return Path(os.environ.get("MESH_CACHE_DIR", ROOT / ".cache")) / f"bqemulator-{key}"


def ensure_venv() -> Path:
    """The emulator's virtualenv, built once per lock file (a file lock serialises builders)."""
    base = cache_dir()
    base.mkdir(parents=True, exist_ok=True)
    done = base / ".complete"
    with open(base / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return base
        venv = base / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        # uv fetches the 75 pinned wheels in parallel: ~15 s here, where pip took ~6 minutes.
        uv = Path(sys.executable).with_name("uv")
        env = {**os.environ, "UV_CACHE_DIR": str(base.parent / "uv")}
        subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env)
        subprocess.run(
            [
                str(uv),
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--python",
                str(venv / "bin" / "python"),
                "-r",
                str(LOCK),
            ],
            check=True,
            env=env,
        )
        home = base / "home"
        home.mkdir(exist_ok=True)
        install = (
            "import duckdb, glob, duckdb_extension_spatial as s, os\n"
            "path = glob.glob(os.path.join(os.path.dirname(s.__file__), 'extensions', '*', "
            "'spatial.duckdb_extension'))[0]\n"
            "duckdb.connect().execute(f\"INSTALL '{path}'\")\n"
        )
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", install],
            check=True,
            env={**os.environ, "HOME": str(home)},
            stdout=subprocess.DEVNULL,
        )
        done.write_text(LOCK.read_text())
    return base


@dataclass
class Emulator:
    rest_port: int
    grpc_port: int
    process: subprocess.Popen
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def env(self) -> dict[str, str]:
        """What the prod profiles and the platform read to reach this emulator."""
        return {
            "MESH_TARGET": "prod",
            "MESH_BQ_PROJECT": PROJECT,
            "MESH_BQ_API_ENDPOINT": self.endpoint,
            "MESH_BQ_TOKEN": TOKEN,
            "MESH_BQ_LOCATION": "US",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(rest_port: int, grpc_port: int, log: Path) -> Emulator:
    base = ensure_venv()
    out = open(log, "wb")
    process = subprocess.Popen(
        [
            str(base / "venv" / "bin" / "bqemulator"),
            "start",
            "--rest-port",
            str(rest_port),
            "--grpc-port",
            str(grpc_port),
            "--project",
            PROJECT,
            "--ephemeral",
            "--log-level",
            "warning",
        ],
        env={**os.environ, "HOME": str(base / "home")},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    emulator = Emulator(rest_port, grpc_port, process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bqemulator exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            requests.get(f"{emulator.endpoint}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2)
            return emulator
        except requests.ConnectionError:
            time.sleep(0.5)
    emulator.stop()
    raise RuntimeError(f"bqemulator did not answer within 90 s: {log.read_text()[-2000:]}")


def read_results_over_rest(mp) -> None:
    """Emulator gap: the Storage Read API cannot read query results; use REST pages."""
    import google.cloud.bigquery.table as bq_table

    mp.setattr(bq_table.RowIterator, "_should_use_bqstorage", lambda self, *args, **kwargs: False)


def accept_load_jobs(mp) -> None:
    """Emulator gap: it refuses an upload whose media part is declared `*/*` (the client's
    generic type); declare it as bytes."""
    import google.cloud.bigquery.client as bq_client

    mp.setattr(bq_client, "_GENERIC_CONTENT_TYPE", "application/octet-stream")


def report_referenced_tables(mp) -> None:
    """Emulator gap: a dry run is answered (the emulator runs the query and drops the rows) but
    its statistics never carry `referencedTables`, so the platform refuses every sql rule on it
    (it runs a rule only when the dry run names the port's table and nothing else). In this
    process a dry-run job that reports none gets the tables its SQL names (sqlglot, per scope:
    every table that is not a CTE, unqualified ones with an empty dataset), as BigQuery lists
    them. The platform's decision on a job's `referenced_tables` is unit-tested on its own
    (tests/test_bigquery_checks.py)."""
    import google.cloud.bigquery.job.query as bq_query
    import sqlglot
    from google.cloud.bigquery import DatasetReference
    from sqlglot.optimizer.scope import traverse_scope

    reported = bq_query.QueryJob.referenced_tables

    def referenced_tables(self):
        found = reported.fget(self)
        if found or not self.dry_run:
            return found
        tables = []
        for scope in traverse_scope(sqlglot.parse_one(self.query, read="bigquery")):
            for source in scope.sources.values():
                if isinstance(source, sqlglot.exp.Table):
                    tables.append(DatasetReference(source.catalog or self.project, source.db).table(source.name))
        return tables

    mp.setattr(bq_query.QueryJob, "referenced_tables", property(referenced_tables))


def load_parquet(client, path: Path, table_id: str) -> int:
    """Create `table_id` with the Parquet file's schema, then load the file (one load job).

    Emulator gap: a load job does not create the table (needs `accept_load_jobs`)."""
    import pyarrow.parquet as pq
    from google.cloud import bigquery

    from mesh_platform.publishing.bigquery_append import bigquery_type

    arrow_schema = pq.read_schema(path)
    schema = [bigquery.SchemaField(f.name, bigquery_type(f.type)) for f in arrow_schema]
    client.create_table(bigquery.Table(table_id, schema=schema), exists_ok=True)
    with open(path, "rb") as file:
        job = client.load_table_from_file(
            file,
            table_id,
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET, write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE
            ),
        )
    return job.result().output_rows


# dbt's enforced-contract DDL on the emulator: the table without the column list (see above).
EMULATOR_DDL_SHIM = """
{% macro bigquery__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(compiled_code) }}
  {%- endif -%}
  {{ sql_header if sql_header is not none }}
  create or replace table {{ relation }}
  as (
    {{ compiled_code }}
  );
{%- endmacro %}
"""


def mesh_root(tmp: Path) -> Path:
    """A copy of the mesh (domains, dbt projects, governance) for MESH_ROOT, each dbt project
    with the emulator's DDL shim as one more macro; the product's SQL and YAML are unchanged."""
    root = tmp / "mesh_root"
    skip = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
    for folder in ("domains", "dbt_projects", "governance"):
        shutil.copytree(ROOT / folder, root / folder, ignore=skip)
    shutil.copy(ROOT / "workspace.yaml", root / "workspace.yaml")
    # the platform's dbt macros, where each project's macro-paths finds them (../../mesh_platform)
    shutil.copytree(ROOT / "mesh_platform" / "dbt_macros", root / "mesh_platform" / "dbt_macros")
    for project in (root / "dbt_projects").iterdir():
        if (project / "dbt_project.yml").exists():
            (project / "macros").mkdir(exist_ok=True)
            (project / "macros" / "emulator_ddl_shim.sql").write_text(EMULATOR_DDL_SHIM)
    return root
