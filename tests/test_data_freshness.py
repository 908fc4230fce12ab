"""Freshness about the data: where the contract names the time column (ODCS `slaProperties`
`element`), a run records the newest value of that column on the port's materialisation, and
the catalog judges the port on it when it builds the page -- not on when it was published."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from click.testing import CliRunner
from sample_days import TODAY, day
from test_catalog import _chromium, _dom

from mesh_platform.catalog.observed import freshness, iso, latest_materialisation
from mesh_platform.cli.main import cli
from mesh_platform.cli.materialize import materialize_products
from mesh_platform.contracts.model import data_time
from mesh_platform.dagster_wiring.freshness import DATA_TIME, NEWEST
from mesh_platform.specs.contract import Sla

PRODUCT = "checkout.web_orders_with_consent"
PORT = ("checkout", "web_orders_with_consent", "web_orders_with_consent")
MIDNIGHT = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)


def _run(partition: str):
    (outcome,) = materialize_products(
        "checkout", product="web_orders_with_consent", partition=partition, instance=dg.DagsterInstance.get()
    )
    assert outcome.success, outcome.error
    return outcome


def _port_freshness(tmp_path: Path) -> tuple[dict, str]:
    """The port's freshness in the catalog model, and the text of its page in headless Chromium
    (the static export: the same templates the server renders)."""
    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["catalog", "build", "--out", str(site)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    product = json.loads((site / "api" / "products" / f"{PRODUCT}.json").read_text())
    (port,) = [p for p in product["ports"] if p["name"] == PORT[2]]
    page = (site / "products" / f"{PRODUCT}.html").read_text()
    if _chromium():
        page = _dom(f"file://{site}/products/{PRODUCT}.html", tmp_path / "profile")
    return SimpleNamespace(**port["freshness"]), page


def _freshness_line(page: str) -> str:
    start = page.index('<dd class="freshness">')
    return page[start : page.index("</dd>", start)]


def test_old_data_shows_stale_and_a_run_over_yesterday_makes_it_fresh(mesh_copy, tmp_path):
    sales = mesh_copy / "landing" / "checkout" / "web_sales.parquet"
    pristine = pq.read_table(sales)
    # the source stopped three days ago: the last three days have no orders
    cut = pa.scalar(dt.date.fromisoformat(day(2)), pa.date32())
    pq.write_table(pristine.filter(pc.less(pristine["ws_sold_date"].cast(pa.date32()), cut)), sales)
    _run(f"{day(2)}...{day()}")  # published just now, but the data ends before those days

    published = latest_materialisation(dg.DagsterInstance.get(), PORT)
    newest = dt.date.fromisoformat(str(published.metadata[NEWEST]).split()[-1])
    assert newest < dt.date.fromisoformat(day(2))
    assert published.metadata[DATA_TIME] == data_time(newest).timestamp()
    stale, page = _port_freshness(tmp_path / "stale")
    assert (stale.state, stale.basis) == ("fail", "data")  # 24h SLA, data at least 48h old
    assert stale.data_time == iso(data_time(newest)) and stale.last_published_at == iso(published.timestamp)
    line = _freshness_line(page)
    assert line.split(">", 1)[1].startswith("fail") and f"data current to {stale.data_time}" in line
    assert f"last published {stale.last_published_at}" in line  # publication shown beside it

    # the source catches up; a run over yesterday alone
    pq.write_table(pristine, sales)
    _run(day())
    fresh, page = _port_freshness(tmp_path / "fresh")
    # the SLA is 24h, warn after 20h, on data complete at midnight: pass until 20:00 UTC
    expected = "pass" if dt.datetime.now(dt.UTC) < MIDNIGHT + dt.timedelta(hours=19, minutes=55) else None
    assert fresh.basis == "data" and fresh.state in ({expected} if expected else {"pass", "warn"})
    assert fresh.data_time == iso(MIDNIGHT)  # yesterday's orders: complete at midnight
    line = _freshness_line(page)
    assert line.split(">", 1)[1].startswith(fresh.state) and f"data current to {iso(MIDNIGHT)}" in line


def test_verdict_on_data_time_follows_the_sla_windows(dagster_home):
    """Pure rule: fail at the window, warn at the warn window, judged at build time."""
    instance = dg.DagsterInstance.get()
    key = dg.AssetKey(["d", "p", "port"])
    sla = Sla(
        freshness=dt.timedelta(hours=24), freshness_warn=dt.timedelta(hours=20), frequency_cron=None, properties=()
    )
    recorded = MIDNIGHT.timestamp()
    instance.report_runless_asset_event(
        dg.AssetMaterialization(key, metadata={DATA_TIME: dg.MetadataValue.timestamp(recorded)})
    )
    published = latest_materialisation(instance, tuple(key.path))

    def state(hours: float) -> str:
        return freshness(instance, tuple(key.path), published, sla, now=recorded + hours * 3600).state

    assert [state(h) for h in (1, 19.9, 20, 23.9, 24, 100)] == ["pass", "pass", "warn", "warn", "fail", "fail"]
    # no SLA window (or no recorded data time): the daemon's verdict, none recorded yet
    assert freshness(instance, tuple(key.path), published, None).state == "unknown"
    assert freshness(instance, tuple(key.path), published, None).basis == "publication"
