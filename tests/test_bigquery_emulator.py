"""The production path on a local BigQuery API emulator: every domain's `dbt build` with
MESH_TARGET=prod, the contract checks through ibis' BigQuery backend, publication to an
immutable snapshot table behind a stable view, consumers reading the views, and the grants
an input port implies applied through the API.

Emulator gaps are worked around in this harness only (tests/bigquery_emulator.py and
`_dbt_project_for_emulator` below); the product's SQL and YAML are what production runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bigquery_emulator as emu
from conftest import free_port
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.publishing import bigquery as bq
from mesh_platform.publishing import grants
from mesh_platform.specs.loader import load_domain
from test_ratings_client import KEY, start_provider

pytestmark = pytest.mark.bigquery_emulator

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ROOT / "domains"

# Emulator gap: dbt's enforced-contract DDL `CREATE OR REPLACE TABLE t (<columns>) AS SELECT`
# fails in the emulator's translation. On the emulator only, the table is created without
# the column list; dbt still compares the query's columns and types with the contract before
# it runs the DDL (assert_columns_equivalent), so a contract mismatch still fails the build.
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


def _dbt_project_for_emulator(domain: str, tmp: Path) -> Path:
    """A copy of the domain's dbt project with the emulator's DDL shim added as a macro."""
    target = tmp / "dbt" / domain
    shutil.copytree(ROOT / "dbt_projects" / domain, target,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (target / "macros").mkdir(exist_ok=True)
    (target / "macros" / "emulator_ddl_shim.sql").write_text(EMULATOR_DDL_SHIM)
    return target


def _dbt(project_dir: Path, *args: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run([str(dbt), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)],
                          capture_output=True, text=True, env=os.environ.copy(), cwd=project_dir)


class MeshOnBigQuery:
    """Builds, audits and publishes products on the emulator the way the platform does."""

    def __init__(self, client, tmp: Path):
        self.client = client
        self.tmp = tmp
        self.domains = {p.name: load_domain(p) for p in sorted(DOMAINS.iterdir()) if (p / "domain.yaml").exists()}
        self.projects = {name: _dbt_project_for_emulator(name, tmp) for name in self.domains}
        self.results: dict[str, object] = {}
        self.builds: dict[str, subprocess.CompletedProcess] = {}

    def build(self, domain: str, *select: str, exclude: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        args = ["build", "--target", "prod"]
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        result = _dbt(self.projects[domain], *args)
        self.builds[f"{domain}:{' '.join(select) or 'all'}"] = result
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result

    def audit_publish(self, domain: str, product: str, run_id: str = "test"):
        out = {}
        for port in self.domains[domain].ports():
            if port.product.name != product:
                continue
            specs = compile_contract(port.contract, port.model)
            result = bq.audit_and_publish(port, specs, dataset=bq.domain_dataset(domain), relation=port.model,
                                          run_id=run_id, bq_client=self.client)
            self.results[port.address] = result
            out[port.address] = result
        return out

    def rows(self, sql: str) -> list:
        return [tuple(r.values()) for r in self.client.query_and_wait(sql)]


def _load_landing(client, data: Path) -> None:
    for domain_dir in sorted((data / "landing").iterdir()):
        dataset = f"landing_{domain_dir.name}"
        bq.ensure_dataset(client, dataset)
        for parquet in sorted(domain_dir.glob("*.parquet")):
            emu.load_parquet(client, parquet, f"{client.project}.{dataset}.{parquet.stem}")


def _load_ratings(client, mesh: MeshOnBigQuery, url: str) -> int:
    """The risk domain's Python table on prod: rate the LEIs of brokerage's *published*
    current_tenants view with the domain's own client, and stream the day's ratings into
    `ratings_api.ratings_history` (the platform's Python tables write DuckDB only so far)."""
    from mesh_platform.importing import import_file

    ratings = import_file(DOMAINS / "risk" / "ratings.py", "mesh_domain_risk_ratings", reuse=True)
    leis = sorted({r[0] for r in mesh.rows(f"SELECT lei FROM `{bq.view_id('brokerage', 'current_tenants')}`")})
    assert leis
    config = ratings.RatingsConfig.from_env(base_url=url, api_key=KEY, batch_size=50)
    with ratings.RatingsClient(config) as api:
        result = api.rate_all(leis)
    from google.cloud import bigquery

    bq.ensure_dataset(client, "ratings_api")
    schema = [bigquery.SchemaField("as_of", "DATE", mode="REQUIRED"),
              bigquery.SchemaField("lei", "STRING", mode="REQUIRED"),
              bigquery.SchemaField("rating", "STRING", mode="REQUIRED"),
              bigquery.SchemaField("outlook", "STRING"),
              bigquery.SchemaField("agency", "STRING", mode="REQUIRED"),
              bigquery.SchemaField("loaded_at", "TIMESTAMP", mode="REQUIRED"),
              bigquery.SchemaField("run_id", "STRING", mode="REQUIRED")]
    table = client.create_table(bigquery.Table(f"{client.project}.ratings_api.ratings_history", schema=schema),
                                exists_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    errors = client.insert_rows(table, [{**r, "loaded_at": now, "run_id": "emulator"} for r in result.rows])
    assert not errors, errors[:3]
    return len(result.rows)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bqemulator")
    running = emu.start(free_port(), free_port(), tmp / "emulator.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def mesh_on_bq(mesh_data, emulator, tmp_path_factory):
    """The whole mesh on the emulator, in dependency order, published once."""
    tmp = tmp_path_factory.mktemp("mesh_on_bq")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in emulator.env().items():
            mp.setenv(name, value)
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        emu.read_results_over_rest()
        client = bq.client()
        _load_landing(client, mesh_data)
        mesh = MeshOnBigQuery(client, tmp)
        for domain in mesh.domains:
            bq.ensure_dataset(client, bq.domain_dataset(domain))
        # 1. source-aligned products on landing data
        mesh.build("checkout")
        mesh.audit_publish("checkout", "web_orders_with_consent")
        mesh.build("brokerage", exclude=("source:risk__entity_ratings+",))
        mesh.audit_publish("brokerage", "tenancy_analytics")
        # 2. products on published ports
        mesh.build("recommendations")
        mesh.audit_publish("recommendations", "articles_bought_together")
        with start_provider() as url:
            mesh.ratings_loaded = _load_ratings(client, mesh, url)
        mesh.build("risk")
        mesh.audit_publish("risk", "entity_ratings")
        # 3. brokerage's consumer-aligned product on risk's published port
        mesh.build("brokerage", "source:risk__entity_ratings+")
        mesh.audit_publish("brokerage", "tenant_risk_exposure")
        yield mesh


def test_every_port_of_every_domain_is_built_checked_and_published(mesh_on_bq):
    every_port = {p.address for d in mesh_on_bq.domains.values() for p in d.ports()}
    assert set(mesh_on_bq.results) == every_port
    for address, result in mesh_on_bq.results.items():
        domain, _product, port = address.split(".")
        assert result.outcomes, address
        failed = [(o.spec.key, o.message) for o in result.outcomes if not o.passed and o.spec.blocking]
        assert not failed, (address, failed)
        assert result.published is not None, address
        # the checks ran on BigQuery, through ibis' BigQuery backend
        assert {o.spec.rule for o in result.outcomes} >= {"schema", "not_null"}
        built = mesh_on_bq.rows(f"SELECT count(*) FROM `{bq.project()}.{bq.domain_dataset(domain)}.{port}`")[0][0]
        served = mesh_on_bq.rows(f"SELECT count(*) FROM `{bq.view_id(domain, port)}`")[0][0]
        assert built == served == result.published.row_count > 0, address
        assert bq.live_snapshot(mesh_on_bq.client, domain, port) == result.published.snapshot


def test_consumers_read_the_published_views(mesh_on_bq):
    """recommendations and brokerage read checkout's and risk's views, never their datasets."""
    for domain, source, view in [("recommendations", "checkout__web_orders_with_consent", "checkout_published"),
                                 ("brokerage", "risk__entity_ratings", "risk_published")]:
        manifest = json.loads((mesh_on_bq.projects[domain] / "target" / "manifest.json").read_text())
        nodes = [n for n in manifest["sources"].values() if n["source_name"] == source]
        assert nodes and all(n["schema"] == view for n in nodes), nodes
    pairs = mesh_on_bq.rows(f"SELECT count(*) FROM `{bq.view_id('recommendations', 'articles_bought_together')}`")
    assert pairs[0][0] > 0
    exposure = mesh_on_bq.rows(
        f"SELECT count(*), countif(rating IS NOT NULL) FROM `{bq.view_id('brokerage', 'tenant_risk_exposure')}`")
    assert exposure[0][0] > 0 and exposure[0][1] > 0
    assert mesh_on_bq.ratings_loaded > 0


def test_a_violating_row_blocks_publication_and_the_view_keeps_the_previous_snapshot(mesh_on_bq):
    client, domain, port = mesh_on_bq.client, "checkout", "web_orders_with_consent"
    before = bq.live_snapshot(client, domain, port)
    served_before = mesh_on_bq.rows(f"SELECT count(*) FROM `{bq.view_id(domain, port)}`")[0][0]
    table = f"{bq.project()}.{bq.domain_dataset(domain)}.{port}"
    # a duplicate of an existing line breaks the contract's primary key
    client.query_and_wait(f"INSERT INTO `{table}` SELECT * FROM `{table}` LIMIT 1")
    try:
        results = mesh_on_bq.audit_publish(domain, "web_orders_with_consent", run_id="bad")
        result = results[f"{domain}.web_orders_with_consent.{port}"]
        assert result.published is None
        blocked = {o.spec.key for o in result.blocked_by}
        assert any("primary_key" in key or "unique" in key for key in blocked), blocked
        failing = next(o for o in result.blocked_by if "primary_key" in o.spec.key or "unique" in o.spec.key)
        assert failing.failing_count and failing.failing_count >= 1
        assert bq.live_snapshot(client, domain, port) == before
        assert mesh_on_bq.rows(f"SELECT count(*) FROM `{bq.view_id(domain, port)}`")[0][0] == served_before
    finally:  # rebuild the good table for the tests after this one
        mesh_on_bq.build(domain)


def test_republish_keeps_snapshots_and_rollback_restores_the_previous_one(mesh_on_bq):
    client, domain, port = mesh_on_bq.client, "checkout", "web_orders_with_consent"
    first = bq.live_snapshot(client, domain, port)
    result = mesh_on_bq.audit_publish(domain, "web_orders_with_consent", run_id="again")
    second = result[f"{domain}.web_orders_with_consent.{port}"].published.snapshot
    assert second != first and bq.live_snapshot(client, domain, port) == second
    assert bq.snapshots(client, domain, port)[-2:] == [first, second]
    assert bq.rollback(client, domain, port) == first
    assert bq.live_snapshot(client, domain, port) == first


def test_grant_plan_gives_consumers_the_view_only_and_applies_on_the_emulator(mesh_on_bq, tmp_path):
    plan = grants.plan(list(mesh_on_bq.domains.values()))
    path = grants.write_plan(plan, tmp_path / "grants.json")
    assert json.loads(path.read_text()) == plan
    readers = {(g["resource"], g["member"]) for g in plan["table_iam"]}
    assert (bq.view_id("checkout", "web_orders_with_consent"),
            grants.principal("recommendations")) in readers
    assert (bq.view_id("risk", "entity_ratings"), grants.principal("brokerage")) in readers
    # never anything but published views; never an internal dataset
    internal = {f"{bq.project()}.{bq.domain_dataset(d)}." for d in mesh_on_bq.domains}
    for grant in plan["table_iam"]:
        assert grant["role"] == "roles/bigquery.dataViewer"
        assert not any(grant["resource"].startswith(prefix) for prefix in internal), grant
        assert "__" not in grant["resource"].rsplit(".", 1)[1]  # not a snapshot table
    # Emulator gap: table IAM (tables.getIamPolicy / setIamPolicy) answers 405, so only the
    # authorised-view entries are applied here; the IAM bindings stay a reviewed plan.
    from google.api_core.exceptions import MethodNotAllowed

    applied = grants.apply(mesh_on_bq.client, {**plan, "table_iam": []})
    assert applied["authorized_views"] == len(plan["authorized_views"]) == len(
        [p for d in mesh_on_bq.domains.values() for p in d.ports()])
    dataset = mesh_on_bq.client.get_dataset(f"{bq.project()}.{bq.published_dataset('checkout')}")
    views = {(e.entity_id or {}).get("tableId") for e in dataset.access_entries if e.entity_type == "view"}
    assert "web_orders_with_consent" in views
    with pytest.raises(MethodNotAllowed):
        grants.apply(mesh_on_bq.client, {**plan, "authorized_views": []})
