"""The production path on a local BigQuery API emulator, driven the way production runs it:
`mesh materialize` with MESH_TARGET=prod builds every domain's products through the Dagster
assets (dbt-bigquery), audits every port through ibis' BigQuery backend, publishes each to an
immutable snapshot table behind a stable view, writes the risk domain's Python table with
write-audit-publish on BigQuery, and consumers build on the published views. Also: a violating
row blocks publication (the view keeps serving the previous snapshot), re-publication and
rollback, and the grants an input port implies applied through the API.

One emulator and one build of the whole mesh serve every assertion of the module. Emulator
gaps are worked around in the harness only (tests/bigquery_emulator.py); the product's SQL,
YAML and the platform's code are what production runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bigquery_emulator as emu
import dagster as dg
import pytest
from click.testing import CliRunner
from conftest import free_port, write_instance_yaml
from test_ratings_client import KEY, admin

from mesh_platform.cli.main import cli
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.cli.workspace import load_definitions
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.mesh.domain import load_domain
from mesh_platform.publishing import bigquery as bq
from mesh_platform.publishing import grants

pytestmark = pytest.mark.bigquery_emulator

PORT = dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent"])
PK_CHECK = "web_orders_with_consent__order_line_id__primary_key"
HISTORY = "ratings_api.ratings_history"


@dataclass
class ProdMesh:
    client: object
    root: Path  # MESH_ROOT: the mesh with the emulator's DDL shim
    data: Path  # MESH_DATA_DIR: must stay empty on prod
    output: str  # what `mesh materialize` printed

    @property
    def domains(self):
        return {p.parent.name: load_domain(p.parent) for p in sorted((self.root / "domains").glob("*/domain.yaml"))}

    def rows(self, sql: str) -> list:
        return [tuple(r.values()) for r in self.client.query_and_wait(sql)]

    def count(self, table_id: str) -> int:
        return self.rows(f"SELECT count(*) FROM `{table_id}`")[0][0]


def mesh(*args: str):
    return CliRunner().invoke(cli, ["materialize", *args], catch_exceptions=False)


def _load_landing(client, data: Path) -> None:
    for domain_dir in sorted((data / "landing").iterdir()):
        dataset = f"landing_{domain_dir.name}"
        bq.ensure_dataset(client, dataset)
        for parquet in sorted(domain_dir.glob("*.parquet")):
            emu.load_parquet(client, parquet, f"{client.project}.{dataset}.{parquet.stem}")


def _evaluations(instance: dg.DagsterInstance, run_id: str) -> list:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    return [r.event_log_entry.dagster_event.event_specific_data for r in records]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bqemulator")
    running = emu.start(free_port(), free_port(), tmp / "emulator.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def prod(mesh_data, emulator, ratings_url, tmp_path_factory):
    """The whole mesh materialised once on the emulator by `mesh materialize` (MESH_TARGET=prod),
    with its own Dagster instance; the environment stays set for the module's tests."""
    tmp = tmp_path_factory.mktemp("mesh_on_bq")
    write_instance_yaml(tmp / "home")
    env = {
        **emulator.env(),
        "MESH_ROOT": str(emu.mesh_root(tmp)),
        "MESH_DATA_DIR": str(tmp / "data"),
        "DAGSTER_HOME": str(tmp / "home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dagster-dbt copies `<DBT_TARGET_PATH>/partial_parse.msgpack` into each build's own
        # target dir: pointing it at the prepared target's dir lets every build reuse the parse.
        "DBT_TARGET_PATH": "target/prod",
        "RATINGS_API_URL": ratings_url,
        "RATINGS_API_KEY": KEY,
        "RATINGS_RETRIES": "2",
        "RATINGS_BACKOFF": "0.01",
        "RATINGS_BATCH_SIZE": "50",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        emu.read_results_over_rest(mp)
        emu.accept_load_jobs(mp)
        emu.report_referenced_tables(mp)
        client = bq.client()
        _load_landing(client, mesh_data)
        admin(ratings_url, "reset")
        # a fresh instance: checkout's daily partitions are all missing, so its run is a full
        # refresh of every day (dbt --full-refresh; Dagster records each partition)
        result = mesh()
        assert result.exit_code == 0, result.output
        yield ProdMesh(client=client, root=Path(env["MESH_ROOT"]), data=tmp / "data", output=result.output)


def test_every_port_of_every_domain_is_built_checked_and_published(prod):
    instance = dg.DagsterInstance.get()
    runs = list(reversed(instance.get_runs()))[:5]  # `mesh materialize`: producers first
    assert [r.tags["domain"] for r in runs] == ["brokerage", "checkout", "recommendations", "risk", "brokerage"]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    evaluations = [e for r in runs for e in _evaluations(instance, r.run_id)]
    ports = [p for d in prod.domains.values() for p in d.ports()]
    assert len(ports) >= 6
    for port in ports:
        domain, key = port.product.domain_name, dg.AssetKey([port.product.domain_name, port.product.name, port.name])
        event = instance.get_latest_materialization_event(key)
        assert event is not None, port.address
        meta = event.asset_materialization.metadata
        assert meta["published_path"].value == bq.view_id(domain, port.name)
        assert meta["snapshot"].value == bq.live_snapshot(prod.client, domain, port.name)
        built = prod.count(f"{bq.project()}.{bq.domain_dataset(domain)}.{port.model}")
        served = prod.count(bq.view_id(domain, port.name))
        assert built == served == meta["dagster/row_count"].value > 0, port.address
        # every contract check of the port ran, on the BigQuery table, and none that blocks failed
        ours = {e.check_name: e for e in evaluations if e.asset_key == key}
        specs = compile_contract(port.contract, port.model)
        assert {s.key for s in specs} <= set(ours), port.address
        failed = [s.key for s in specs if s.blocking and not ours[s.key].passed]
        assert not failed, (port.address, failed)
        assert {ours[s.key].metadata["rule"].value for s in specs} >= {"schema", "not_null"}
        # sql rules ran on BigQuery (after their dry run): each measured a number
        assert all("measured" in ours[s.key].metadata for s in specs if s.rule == "sql"), port.address
        assert max(ours[s.key].metadata["total_rows"].value for s in specs) == built
    # nothing of prod was written locally: no DuckDB warehouse, no Parquet snapshot
    assert not prod.data.exists() or not [p for p in prod.data.rglob("*") if p.is_file()]


def test_consumers_read_the_published_views(prod):
    """recommendations and brokerage read checkout's and risk's views, never their datasets."""
    for domain, source, view in [
        ("recommendations", "checkout__web_orders_with_consent", "checkout_published"),
        ("brokerage", "risk__entity_ratings", "risk_published"),
    ]:
        manifest = json.loads((prod.root / "dbt_projects" / domain / "target" / "prod" / "manifest.json").read_text())
        nodes = [n for n in manifest["sources"].values() if n["source_name"] == source]
        assert nodes and all(n["schema"] == view for n in nodes), nodes
    assert prod.count(bq.view_id("recommendations", "articles_bought_together")) > 0
    exposure = prod.rows(
        f"SELECT count(*), countif(rating IS NOT NULL) FROM `{bq.view_id('brokerage', 'tenant_risk_exposure')}`"
    )
    assert exposure[0][0] > 0 and exposure[0][1] > 0


def test_the_python_table_is_written_on_bigquery_all_or_nothing(prod, ratings_url):
    """risk's ratings history: rated from brokerage's published view, staged, audited and merged
    on BigQuery by the platform; rows that break the contract leave the history as it was."""
    instance = dg.DagsterInstance.get()
    key = dg.AssetKey(["risk", "entity_ratings", "ratings_history"])
    written = instance.get_latest_materialization_event(key)
    tenants = prod.rows(f"SELECT count(DISTINCT lei) FROM `{bq.view_id('brokerage', 'current_tenants')}`")[0][0]
    history = f"{bq.project()}.{HISTORY}"
    assert prod.rows(f"SELECT count(*), count(DISTINCT lei), max(run_id) FROM `{history}`") == [
        (tenants, tenants, written.run_id)
    ]
    assert written.asset_materialization.metadata["dagster/row_count"].value == tenants

    admin(ratings_url, "reset")
    bad = prod.rows(f"SELECT lei FROM `{history}` ORDER BY lei LIMIT 2")
    admin(ratings_url, "faults", {"bad_ratings": {lei: "ZZZ" for (lei,) in bad}})
    try:
        (outcome,) = materialize_products("risk")
    finally:
        admin(ratings_url, "reset")
    assert not outcome.success
    assert "risk.entity_ratings.ratings_history: the new rows break the contract" in outcome.error
    assert "entity_ratings__rating__invalid_values" in outcome.error
    assert prod.rows(f"SELECT count(*), max(run_id), countif(rating = 'ZZZ') FROM `{history}`") == [
        (tenants, written.run_id, 0)
    ]
    leftovers = [t.table_id for t in prod.client.list_tables(f"{bq.project()}.ratings_api")]
    assert leftovers == ["ratings_history"]  # the staging table is gone

    # A clean re-run the same day replaces that day's rows (one MERGE), through the Dagster asset.
    defs = load_definitions(prod.root / "domains" / "risk")
    result = dg.materialize(
        assets=list(defs.assets),
        selection=dg.AssetSelection.assets(key),
        instance=instance,
        resources=dict(defs.resources or {}),
        raise_on_error=False,
    )
    assert result.success
    assert prod.rows(f"SELECT count(*), count(DISTINCT run_id), max(run_id) FROM `{history}`") == [
        (tenants, 1, result.run_id)
    ]


@pytest.fixture(scope="module")
def violation(prod):
    """A duplicated order line in checkout's landing data, materialised; then the data repaired
    and materialised again. Returns what each side saw."""
    client, view = prod.client, bq.view_id("checkout", "web_orders_with_consent")
    web_sales = f"{bq.project()}.landing_checkout.web_sales"
    before = {
        "snapshot": bq.live_snapshot(client, "checkout", PORT.path[-1]),
        "served": prod.count(view),
        "snapshots": bq.snapshots(client, "checkout", PORT.path[-1]),
        "run_id": dg.DagsterInstance.get().get_latest_materialization_event(PORT).run_id,
    }
    (day,) = prod.rows(f"SELECT CAST(max(sold_date) AS STRING) FROM `{view}`")[0]  # the newest day with orders
    order_number, line_number = prod.rows(
        f"SELECT order_number, line_number FROM `{view}` WHERE sold_date = DATE '{day}' LIMIT 1"
    )[0]
    client.query_and_wait(f"CREATE TABLE `{web_sales}__clean` AS SELECT * FROM `{web_sales}`")
    client.query_and_wait(
        f"INSERT INTO `{web_sales}` SELECT * FROM `{web_sales}` WHERE ws_order_number = "
        f"{int(order_number.split('-')[1])} AND ws_line_number = {int(line_number)}"
    )
    bad = mesh("--domain", "checkout", "--partition", day)  # the day of the duplicated line
    during = {
        "snapshot": bq.live_snapshot(client, "checkout", PORT.path[-1]),
        "served": prod.count(view),
        "snapshots": bq.snapshots(client, "checkout", PORT.path[-1]),
        "run": dg.DagsterInstance.get().get_runs(limit=1)[0],
        "run_id": dg.DagsterInstance.get().get_latest_materialization_event(PORT).run_id,
    }
    client.query_and_wait(f"CREATE OR REPLACE TABLE `{web_sales}` AS SELECT * FROM `{web_sales}__clean`")
    client.delete_table(f"{web_sales}__clean")
    good = mesh("--domain", "checkout", "--partition", day)
    return {"before": before, "bad": bad, "during": during, "good": good}


def test_a_violating_row_blocks_publication_and_the_view_keeps_the_previous_snapshot(violation):
    before, during, bad = violation["before"], violation["during"], violation["bad"]
    assert bad.exit_code == 1, bad.output
    assert PK_CHECK in bad.output and "not published" in bad.output
    # the view still serves the previous snapshot, and no new snapshot was made
    assert during["snapshot"] == before["snapshot"] and during["served"] == before["served"]
    assert during["snapshots"] == before["snapshots"]
    assert during["run"].status == dg.DagsterRunStatus.FAILURE
    assert during["run_id"] == before["run_id"]  # a failed audit records no materialisation
    evaluation = next(
        e for e in _evaluations(dg.DagsterInstance.get(), during["run"].run_id) if e.check_name == PK_CHECK
    )
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failing_count"].value >= 1


def test_republish_keeps_snapshots_and_rollback_restores_the_previous_one(prod, violation):
    assert violation["good"].exit_code == 0, violation["good"].output
    client, domain, port = prod.client, "checkout", PORT.path[-1]
    first, second = violation["before"]["snapshot"], bq.live_snapshot(client, domain, port)
    assert second != first
    assert (
        dg.DagsterInstance.get().get_latest_materialization_event(PORT).asset_materialization.metadata["snapshot"].value
        == second
    )
    assert bq.snapshots(client, domain, port)[-2:] == [first, second]
    assert bq.rollback(client, domain, port) == first
    assert bq.live_snapshot(client, domain, port) == first
    assert prod.count(bq.view_id(domain, port)) == violation["before"]["served"]


def test_grant_plan_gives_consumers_the_view_only_and_applies_on_the_emulator(prod, tmp_path):
    domains = prod.domains
    plan = grants.plan(list(domains.values()))
    path = grants.write_plan(plan, tmp_path / "grants.json")
    assert json.loads(path.read_text()) == plan
    readers = {(g["resource"], g["member"]) for g in plan["table_iam"]}
    assert (bq.view_id("checkout", "web_orders_with_consent"), grants.principal("recommendations")) in readers
    assert (bq.view_id("risk", "entity_ratings"), grants.principal("brokerage")) in readers
    # never anything but published views; never an internal dataset
    internal = {f"{bq.project()}.{bq.domain_dataset(d)}." for d in domains}
    for grant in plan["table_iam"]:
        assert grant["role"] == "roles/bigquery.dataViewer"
        assert not any(grant["resource"].startswith(prefix) for prefix in internal), grant
        assert "__" not in grant["resource"].rsplit(".", 1)[1]  # not a snapshot table
    # Emulator gap: table IAM (tables.getIamPolicy / setIamPolicy) answers 405, so only the
    # authorised-view entries are applied here; the IAM bindings stay a reviewed plan.
    from google.api_core.exceptions import MethodNotAllowed

    applied = grants.apply(prod.client, {**plan, "table_iam": []})
    assert (
        applied["authorized_views"]
        == len(plan["authorized_views"])
        == len([p for d in domains.values() for p in d.ports()])
    )
    dataset = prod.client.get_dataset(f"{bq.project()}.{bq.published_dataset('checkout')}")
    views = {(e.entity_id or {}).get("tableId") for e in dataset.access_entries if e.entity_type == "view"}
    assert "web_orders_with_consent" in views
    with pytest.raises(MethodNotAllowed):
        grants.apply(prod.client, {**plan, "authorized_views": []})
