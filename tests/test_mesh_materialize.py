"""The whole mesh, end to end: `mesh materialize` with no arguments builds every product of
every domain in dependency order (checkout -> recommendations; brokerage -> risk -> brokerage),
with the ratings provider on a free 127.0.0.1 port; each output port is checked against an
independent SQL computation over the landing files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import write_instance_yaml
from sample_days import last_days
from test_materialize import consented_lines_sql
from test_ratings_client import KEY, admin, provider_module

from mesh_platform import settings
from mesh_platform.cli.main import cli
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.cli.run_progress import ProgressDisplay
from mesh_platform.cli.workspace import load_definitions

ROOT = Path(__file__).resolve().parent.parent


def mesh(*args: str):
    return CliRunner().invoke(cli, ["materialize", *args], catch_exceptions=False)


def published(address: str) -> str | None:
    """What consumers pass to read_parquet: the live file, or a partitioned port's glob."""
    from mesh_platform.published_layout import live_location

    return live_location(settings.published_dir(*address.split(".")))


def row_count(address: str) -> int:
    return sql(f"select count(*) from read_parquet('{published(address)}')")[0][0]


def sql(query: str, *params):
    return duckdb.execute(query, list(params)).fetchall()


def test_every_port_published_in_dependency_order(whole_mesh):
    for address in (
        "checkout.web_orders_with_consent.web_orders_with_consent",
        "brokerage.tenancy_analytics.rent_by_month_and_tenant",
        "brokerage.tenancy_analytics.current_tenants",
        "risk.entity_ratings.entity_ratings",
        "recommendations.articles_bought_together.articles_bought_together",
        "brokerage.tenant_risk_exposure.tenant_risk_exposure",
    ):
        assert published(address) is not None, address
        assert row_count(address) > 0, address
    # oldest first; the first five are `mesh materialize` (other tests may add runs later)
    runs = list(reversed(dg.DagsterInstance.get().get_runs()))[:5]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # Batches by stage: producers first; brokerage runs again for the product that reads risk.
    assert [r.tags["domain"] for r in runs] == ["brokerage", "checkout", "recommendations", "risk", "brokerage"]
    assert runs[-1].tags["product"] == "tenant_risk_exposure"
    # dagster-dbt's folder per dbt invocation (about 2 MB) went with each successful run
    assert not [f for r in runs for f in dbt_run_folders(r.run_id)]


def dbt_run_folders(run_id: str) -> list[Path]:
    """The folders dagster-dbt named after the run (`<op>-<run id[:7]>-<uuid[:7]>`)."""
    return list((ROOT / "dbt_projects").glob(f"*/target/*/*-{run_id[:7]}-*"))


def test_consented_orders_count(whole_mesh):
    rows = row_count("checkout.web_orders_with_consent.web_orders_with_consent")
    assert rows == consented_lines_sql(whole_mesh / "landing" / "checkout")


def _consented_order_items(landing: Path) -> str:
    """Distinct (order, item) of consented order lines, straight from the landing files."""
    return f"""
        with sales as (
            select *, ws_sold_date::timestamp + to_seconds(ws_sold_time::bigint) as sold_at
            from read_parquet('{landing}/web_sales.parquet')
        ), consented as (
            select s.* from sales s
            where exists (
                select 1 from read_parquet('{landing}/customer_consents.parquet') c
                where c.customer_sk = s.ws_bill_customer_sk and c.purpose = 'analytics'
                  and c.granted_at <= s.sold_at and (c.revoked_at is null or c.revoked_at > s.sold_at))
        )
        select distinct consented.ws_order_number as order_no, items.i_item_id as item_id
        from consented join read_parquet('{landing}/items.parquet') items on items.i_item_sk = consented.ws_item_sk
    """


def test_pair_support_for_a_known_pair(whole_mesh):
    port = published("recommendations.articles_bought_together.articles_bought_together")
    ((item, other, together, support, confidence),) = sql(
        f"select item_id, bought_with_item_id, orders_together, support, confidence from read_parquet('{port}') "
        "order by orders_together desc, item_id, bought_with_item_id limit 1"
    )
    order_items = _consented_order_items(whole_mesh / "landing" / "checkout")
    ((n_orders, with_item, with_both),) = sql(
        f"""
        with oi as ({order_items})
        select (select count(distinct order_no) from oi),
               (select count(*) from oi where item_id = $1),
               (select count(*) from oi a join oi b using (order_no) where a.item_id = $1 and b.item_id = $2)
    """,
        item,
        other,
    )
    assert together == with_both >= 2
    assert float(support) == pytest.approx(with_both / n_orders, abs=1e-8)
    assert float(confidence) == pytest.approx(with_both / with_item, abs=1e-8)
    # Every pair with at least 2 orders is there, once per direction.
    ((expected_pairs,),) = sql(f"""
        with oi as ({order_items})
        select count(*) from (select a.item_id, b.item_id from oi a join oi b using (order_no)
                              where a.item_id <> b.item_id group by 1, 2 having count(*) >= 2)""")
    assert pq.read_metadata(port).num_rows == expected_pairs


def test_current_tenants(whole_mesh):
    landing = whole_mesh / "landing" / "brokerage"
    expected = sql(f"""
        select tenant_lei, count(*) from read_parquet('{landing}/lease_contracts.parquet')
        where start_date <= current_date and end_date >= current_date group by 1 order by 1""")
    port = published("brokerage.tenancy_analytics.current_tenants")
    assert sql(f"select lei, active_lease_count from read_parquet('{port}') order by 1") == expected


def test_exposure_for_a_known_tenant(whole_mesh):
    landing = whole_mesh / "landing" / "brokerage"
    leases = f"read_parquet('{landing}/lease_contracts.parquet')"
    ((lei, currency, active),) = sql(f"""
        select tenant_lei, currency, count(*) from {leases}
        where start_date <= current_date and end_date >= current_date
        group by 1, 2 order by 3 desc, 1 limit 1""")
    # Rent due this month, and in each of the 12 months from this one (a lease is due in
    # every month it touches: it starts on the 1st and ends on the last day of a month).
    ((monthly, next_12),) = sql(
        f"""
        with months as (
            select unnest(generate_series(date_trunc('month', current_date),
                                          date_trunc('month', current_date) + interval 11 month,
                                          interval 1 month))::date as m)
        select sum(monthly_rent) filter (where m = date_trunc('month', current_date)), sum(monthly_rent)
        from {leases} l join months on l.start_date <= last_day(m) and l.end_date >= m
        where l.tenant_lei = $1 and l.currency = $2""",
        lei,
        currency,
    )
    rating, outlook = provider_module.rating_for(lei)
    port = published("brokerage.tenant_risk_exposure.tenant_risk_exposure")
    row = sql(
        f"select active_lease_count, monthly_rent, rent_next_12_months, rating, outlook, risk_band, "
        f"rating_as_of from read_parquet('{port}') where tenant_lei = $1 and currency = $2",
        lei,
        currency,
    )
    ratings = published("risk.entity_ratings.entity_ratings")
    ((latest,),) = sql(f"select max(as_of) from read_parquet('{ratings}') where lei = $1", lei)
    assert latest is not None
    assert row == [(active, monthly, next_12, rating, outlook, _band(rating), latest)]
    ((rows,),) = sql(
        f"select count(*) from (select distinct tenant_lei, currency from {leases} "
        "where start_date <= current_date and end_date >= current_date)"
    )
    assert pq.read_metadata(port).num_rows == rows


def _band(rating: str) -> str:
    order = provider_module.RATINGS
    if order.index(rating) <= order.index("BBB-"):
        return "investment_grade"
    return "speculative" if order.index(rating) <= order.index("B-") else "distressed"


def test_failed_ratings_run_leaves_history_and_port_unchanged_and_rerun_appends(whole_mesh, ratings_url):
    port = Path(published("risk.entity_ratings.entity_ratings"))  # an unpartitioned port: one file
    warehouse = whole_mesh / "warehouse" / "risk.duckdb"

    def history():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("select * from ratings_api.ratings_history order by as_of, lei").fetchall()

    before_history, before_port = history(), port.read_bytes()
    before_snapshots = sorted((port.parent / "snapshots").iterdir())
    tenants = sorted(
        r[0] for r in sql(f"select lei from read_parquet('{published('brokerage.tenancy_analytics.current_tenants')}')")
    )
    assert len(tenants) > 50  # several batches of 25
    admin(ratings_url, "reset")
    day_before = before_history[0][0] - dt.timedelta(days=1)  # a rating date not in the future
    admin(
        ratings_url, "faults", {"fail_leis": [tenants[60]], "as_of": day_before.isoformat()}
    )  # batch 3 never succeeds

    (outcome,) = materialize_products(domain="risk")
    assert not outcome.success
    assert "batch 3/4 (25 LEIs" in outcome.error and "failed after 2 retries: HTTP 500" in outcome.error
    assert history() == before_history  # batches 1 and 2 were fetched, nothing was written
    assert port.read_bytes() == before_port
    assert sorted((port.parent / "snapshots").iterdir()) == before_snapshots
    statuses = admin(ratings_url, "stats")["ratings_by_status"]
    assert statuses == {"200": 2, "500": 3}  # batch 3: one try and two retries; batch 4 never asked

    admin(ratings_url, "faults", {"fail_leis": []})  # the provider recovers: re-running succeeds
    result = mesh("--domain", "risk")
    assert result.exit_code == 0, result.output
    after = history()
    kept = [row for row in after if row[0] != day_before]
    assert kept == before_history  # a dated history: the rows already there are kept unchanged
    assert {r[0] for r in after} == {before_history[0][0], day_before}
    assert pq.read_metadata(port).num_rows == 2 * len(tenants)


def test_consumer_run_before_its_producer_fails_clearly(mesh_data, ratings_url, tmp_path, monkeypatch):
    shutil.copytree(mesh_data / "landing", tmp_path / "data" / "landing")
    write_instance_yaml(tmp_path / "home")
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RATINGS_API_URL", ratings_url)
    monkeypatch.setenv("RATINGS_API_KEY", KEY)

    (outcome,) = materialize_products(domain="risk")  # Python reads the input port
    assert "input port brokerage.tenancy_analytics.current_tenants is not published yet" in outcome.error
    assert "materialise brokerage.tenancy_analytics first" in outcome.error

    (outcome,) = materialize_products(domain="recommendations")  # dbt reads the input port
    assert not outcome.success
    assert (
        "recommendations.articles_bought_together: input port "
        "checkout.web_orders_with_consent.web_orders_with_consent is not published yet"
    ) in outcome.error
    assert not (tmp_path / "data" / "published" / "recommendations").exists()
    # the failed run keeps its dbt folder (compiled SQL, dbt.log) for whoever debugs it
    (kept,) = dbt_run_folders(outcome.run_id)
    assert (kept / "dbt.log").exists()
    shutil.rmtree(kept)


class _Counted(ProgressDisplay):
    """The CLI's progress display, off a terminal, keeping each run's counter."""

    def __init__(self):
        super().__init__()
        self.counters = []

    def start(self, label: str, planned: int = 0):
        self.counters.append(super().start(label, planned))
        return self.counters[-1]


def test_the_progress_bar_ends_at_the_total_it_announced(whole_mesh):
    """The bar's total is the run's plan: every partition of each asset in the range and every
    check, and a run that succeeds ends exactly there (Dagster's planned events never reach a
    run's loggers, so counting them left the total at whatever had finished)."""
    display = _Counted()
    (outcome,) = materialize_products(domain="checkout", partition=last_days(2), display=display)
    assert outcome.success, outcome.error
    (counter,) = display.counters
    built = [a for a in load_definitions(ROOT / "domains" / "checkout").assets if a.is_executable]
    assets = [s for a in built for s in a.specs]
    checks = [c for a in built for c in a.check_specs]
    assert all(s.partitions_def is not None for s in assets)  # checkout's product is partitioned, views too
    assert counter.planned == 2 * len(assets) + len(checks)
    assert counter.done == counter.planned
