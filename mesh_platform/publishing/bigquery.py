"""Published output ports on BigQuery: immutable snapshot tables behind one stable view.

Per domain there are two datasets:
    <domain dataset>            dbt builds every model here (internal; MESH_BQ_DATASET_<DOMAIN>)
    <domain dataset>_published  what consumers read (MESH_BQ_PUBLISHED_DATASET_<DOMAIN>):
        <port>__<UTC timestamp>   immutable snapshot tables, the newest KEEP_SNAPSHOTS kept
        <port>                    a view `SELECT * FROM <the live snapshot>`

Write, audit, publish: dbt builds the port's model, the contract checks run on it through
ibis' BigQuery backend, and only then is it copied to a new snapshot and the view's query
swapped to it (one tables.patch: readers see the old or the new snapshot), so a consumer only ever reads a checked
version. Consumers are granted reader on the view only (see `grants.py`); the view is an
authorised view of its own dataset, so it can read the snapshots they cannot.

Connection settings come from the environment: MESH_BQ_PROJECT, MESH_BQ_LOCATION, and for a
local API emulator only MESH_BQ_API_ENDPOINT and MESH_BQ_TOKEN (unset in production, where
Application Default Credentials, e.g. a service account, are used).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mesh_platform.mesh.address import PortAddress
from mesh_platform.publishing.audit import AuditResult
from mesh_platform.publishing.snapshots import KEEP_SNAPSHOTS

_LIVE = "Published output port; live snapshot: "
_STAMP = re.compile(r"^(?P<port>.+)__(?P<stamp>\d{8}T\d{12}Z)$")


# --- where things live ---------------------------------------------------------------------


def project() -> str:
    return os.environ.get("MESH_BQ_PROJECT", "unset-project")


def location() -> str:
    return os.environ.get("MESH_BQ_LOCATION", "EU")


def domain_dataset(domain: str) -> str:
    """The dataset dbt builds a domain's models into (internal)."""
    return os.environ.get(f"MESH_BQ_DATASET_{domain.upper()}", domain)


def published_dataset(domain: str) -> str:
    """The dataset holding a domain's published views and their snapshots."""
    return os.environ.get(_published_dataset_env(domain), f"{domain}_published")


def published_dataset_jinja(domain: str) -> str:
    """`published_dataset` as dbt resolves it when it parses (a consumer's generated source)."""
    return f"{{{{ env_var('{_published_dataset_env(domain)}', '{domain}_published') }}}}"


def _published_dataset_env(domain: str) -> str:
    return f"MESH_BQ_PUBLISHED_DATASET_{domain.upper()}"


def view_id(domain: str, port: str) -> str:
    return f"{project()}.{published_dataset(domain)}.{port}"


# --- connections ---------------------------------------------------------------------------


def client():
    """A google-cloud-bigquery client for the configured project (and emulator, if set)."""
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    endpoint = os.environ.get("MESH_BQ_API_ENDPOINT") or None
    token = os.environ.get("MESH_BQ_TOKEN")
    credentials = None
    if token:
        # lazy: the BigQuery client is only needed on the BigQuery target
        from google.oauth2.credentials import Credentials

        credentials = Credentials(token)
    return bigquery.Client(
        project=project(),
        location=location(),
        credentials=credentials,
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
    )


def ibis_backend(bq_client=None):
    """ibis' BigQuery backend over `bq_client`: the contract checks compile to BigQuery SQL."""
    # lazy: the BigQuery client (and ibis' backend) is only needed on the BigQuery target
    import ibis
    from google.cloud import bigquery_storage_v1

    bq_client = bq_client or client()
    storage = bigquery_storage_v1.BigQueryReadClient(credentials=bq_client._credentials)
    return ibis.bigquery.connect(client=bq_client, storage_client=storage, project_id=bq_client.project)


# --- publishing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    path: str  # the stable view consumers read, project.dataset.port
    snapshot: str  # the immutable table it now selects from
    row_count: int


def ensure_dataset(bq_client, dataset: str) -> None:
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.cloud import bigquery

    ds = bigquery.Dataset(f"{bq_client.project}.{dataset}")
    ds.location = location()
    bq_client.create_dataset(ds, exists_ok=True)


def publish_table(
    bq_client, source: str, domain: str, port: str, run_id: str = "manual", keep: int = KEEP_SNAPSHOTS
) -> Published:
    """Copy `source` (project.dataset.table) to a new snapshot and point the port's view at it."""
    dataset = published_dataset(domain)
    ensure_dataset(bq_client, dataset)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    snapshot = f"{bq_client.project}.{dataset}.{port}__{stamp}"
    bq_client.query_and_wait(f"CREATE TABLE `{snapshot}` AS SELECT * FROM `{source}`")
    row_count = bq_client.get_table(snapshot).num_rows
    if row_count is None:  # not every server fills it in for a fresh CTAS
        row_count = next(iter(bq_client.query_and_wait(f"SELECT count(*) FROM `{snapshot}`")))[0]
    _point_view(bq_client, domain, port, snapshot)
    _prune(bq_client, domain, port, keep)
    return Published(path=view_id(domain, port), snapshot=snapshot, row_count=int(row_count))


def snapshots(bq_client, domain: str, port: str) -> list[str]:
    """The port's snapshot tables, oldest first."""
    dataset = f"{bq_client.project}.{published_dataset(domain)}"
    names = []
    for table in bq_client.list_tables(dataset):
        match = _STAMP.match(table.table_id)
        if match and match["port"] == port:
            names.append((match["stamp"], f"{dataset}.{table.table_id}"))
    return [name for _, name in sorted(names)]


def live_snapshot(bq_client, domain: str, port: str) -> str | None:
    """The snapshot the port's view selects from, or None before the first publication."""
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.api_core.exceptions import NotFound

    try:
        view = bq_client.get_table(view_id(domain, port))
    except NotFound:
        return None
    # The view's SQL says it; its description repeats it for servers that do not return the
    # SQL of a view (the local emulator).
    match = re.search(r"FROM\s+`([^`]+)`", view.view_query or "", re.IGNORECASE) or re.search(
        rf"^{re.escape(_LIVE)}(\S+)$", view.description or ""
    )
    return match.group(1) if match else None


def rollback(bq_client, domain: str, port: str) -> str:
    """Point the port's view at the snapshot before the live one."""
    history = snapshots(bq_client, domain, port)
    live = live_snapshot(bq_client, domain, port)
    if live not in history or history.index(live) == 0:
        raise LookupError(f"no earlier snapshot of {domain}.{port} to roll back to")
    previous = history[history.index(live) - 1]
    _point_view(bq_client, domain, port, previous)
    return previous


def _point_view(bq_client, domain: str, port: str, snapshot: str) -> None:
    """Create the view, or swap its query in one tables.patch (readers see old or new)."""
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    query, description = f"SELECT * FROM `{snapshot}`", f"{_LIVE}{snapshot}"
    try:
        view = bq_client.get_table(view_id(domain, port))
    except NotFound:
        view = bigquery.Table(view_id(domain, port))
        view.view_query, view.description = query, description
        bq_client.create_table(view)
        return
    view.view_query, view.description = query, description
    bq_client.update_table(view, ["view_query", "description"])


def _prune(bq_client, domain: str, port: str, keep: int) -> None:
    history = snapshots(bq_client, domain, port)
    live = live_snapshot(bq_client, domain, port)
    for old in history[:-keep] if keep > 0 else []:
        if old != live:
            bq_client.delete_table(old, not_found_ok=True)


# --- audit, then publish -------------------------------------------------------------------


def port_relation(backend, domain: str, port: str):
    """Another domain's published port, as consumers see it (the view)."""
    return backend.table(port, database=(backend.billing_project, published_dataset(domain)))


def published_resolver(backend):
    """Relationship targets on BigQuery: another port's published view, or a sibling table."""

    def resolve(spec, table) -> Any:
        target = spec.params["target"]
        try:
            if spec.params.get("external"):
                address = PortAddress.parse(target)
                return port_relation(backend, address.domain, address.port)
            if target == spec.table:
                return table
            ns = table.op().namespace
            return backend.table(target, database=(ns.catalog, ns.database))
        except Exception:  # noqa: BLE001 - not there (not published yet)
            return None

    return resolve


def audit_and_publish(
    port, specs, dataset: str, relation: str, run_id: str, publish: bool = True, bq_client=None, window=None
):
    """Audit `dataset.relation` through ibis' BigQuery backend; publish it only if it passed
    (the BigQuery twin of `publishing.duckdb.audit_and_publish`).

    A partitioned port's run (`window`) is audited like on DuckDB (contracts/partition_scope:
    row rules on the run's partitions, keys exact across partitions); the published snapshot
    is a copy of the whole table (a BigQuery table copy is charged no query bytes)."""
    # lazy: the check runner (pandera, ibis) loads with a run that audits, not with a location
    from mesh_platform.contracts import explain, partition_scope, runner

    bq_client = bq_client or client()
    backend = ibis_backend(bq_client)
    table = backend.table(relation, database=(bq_client.project, dataset))
    masked, resolve = explain.masked_columns(port.schema), published_resolver(backend)
    if port.product.partitioning is not None:
        outcomes = partition_scope.run_partition_checks(
            specs, table, port.product.partitioning.column, window, masked, resolve=resolve
        )
    else:
        outcomes = runner.run_checks(specs, table, masked, resolve=resolve)
    result = AuditResult(port=port, outcomes=outcomes, published=None)
    if publish and not result.blocked_by:
        result.published = publish_table(
            bq_client, f"{bq_client.project}.{dataset}.{relation}", port.product.domain_name, port.name, run_id
        )
    return result
