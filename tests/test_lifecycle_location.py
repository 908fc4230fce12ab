"""What lifecycle states do to code locations: a retired port has no asset, job or schedule,
and retiring archives its published snapshots (kept byte for byte); a location refuses to
load while a consumer still reads a retired port."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from test_lifecycle import CHECKOUT_CONTRACT, ORDERS, mesh

from mesh_platform import settings
from mesh_platform.cli.main import cli
from mesh_platform.dagster_wiring.definitions import build_domain_definitions
from mesh_platform.lifecycle.archive import archived_snapshots
from mesh_platform.publishing.snapshots import list_snapshots, publish_relation
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
SUNSET = date(2027, 3, 1)


@pytest.fixture
def mesh_root(mesh_data, tmp_path, monkeypatch) -> Path:
    """A copy of the repository's domains and dbt projects, with their parsed manifests."""
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dbt_projects", tmp_path / "dbt_projects", ignore=shutil.ignore_patterns("logs"))
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MESH_TODAY", "2026-11-21")
    # The example mesh deprecates the orders port for its v2; these tests start from it active.
    result = CliRunner().invoke(cli, ["product", "activate", ORDERS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path


def _specs(defs: dg.Definitions) -> list[dg.AssetSpec]:
    out = []
    for assets in defs.assets or []:
        out += [assets] if isinstance(assets, dg.AssetSpec) else list(assets.specs)
    return out


def _keys(defs: dg.Definitions) -> set[tuple[str, ...]]:
    return {tuple(spec.key.path) for spec in _specs(defs)}


def _publish_two_snapshots() -> list[bytes]:
    port_dir = settings.published_dir(*ORDERS.split("."))
    con = duckdb.connect()
    for run in ("run1", "run2"):
        publish_relation(con, "(select 1 as order_line_id)", port_dir, run_id=run)
    return [path.read_bytes() for path in list_snapshots(port_dir)]


def test_retiring_after_the_consumer_moved_removes_assets_and_archives_snapshots(mesh_root, monkeypatch):
    before = _keys(build_domain_definitions(mesh_root / "domains" / "checkout"))
    assert ("checkout", "web_orders_with_consent", "web_orders_with_consent") in before
    published = _publish_two_snapshots()

    assert mesh("product", "deprecate", ORDERS, "--sunset", SUNSET.isoformat()).exit_code == 0
    # Retired by hand while recommendations still reads it: checkout's location refuses to load.
    contract = mesh_root / CHECKOUT_CONTRACT
    deprecated = contract.read_text()
    contract.write_text(deprecated.replace("\nstatus: deprecated", "\nstatus: retired"))
    monkeypatch.setenv("MESH_TODAY", SUNSET.isoformat())
    with pytest.raises(SpecError, match="recommendations.articles_bought_together .*still reads it"):
        build_domain_definitions(mesh_root / "domains" / "checkout")
    contract.write_text(deprecated)

    # The consumer moves off (its product is deprecated, then retired); then checkout retires the port.
    result = mesh(
        "product",
        "deprecate",
        "recommendations.articles_bought_together",
        "--sunset",
        "2027-01-01",
        today=date(2026, 11, 21),
    )
    assert result.exit_code == 0, result.output
    assert mesh("product", "retire", "recommendations.articles_bought_together").exit_code == 0
    result = mesh("product", "retire", ORDERS)
    assert result.exit_code == 0, result.output
    assert "archived published snapshots" in result.output

    # Off the mesh: no live snapshot, every snapshot kept in the archive.
    assert not settings.published_dir(*ORDERS.split(".")).exists()
    assert [path.read_bytes() for path in archived_snapshots(ORDERS)] == published
    # No assets, checks, jobs or schedules left for it in either location.
    checkout = build_domain_definitions(mesh_root / "domains" / "checkout")
    assert tuple(ORDERS.split(".")) not in _keys(checkout)
    assert not any(
        ORDERS.split(".")[2] in str(c.name) and "_v2" not in str(c.name)
        for a in checkout.assets
        if not isinstance(a, dg.AssetSpec)
        for c in a.check_keys
    )
    assert ("checkout", "web_orders_with_consent", "web_orders_with_consent_v2") in _keys(checkout)  # v2 stays
    assert {s.name for s in checkout.sensors} >= {"checkout__alerts", "checkout__lifecycle"}
    recommendations = build_domain_definitions(mesh_root / "domains" / "recommendations")
    assert not any(key[:2] == ("recommendations", "articles_bought_together") for key in _keys(recommendations))


def test_a_draft_product_builds_in_its_domain_but_is_not_published(mesh_root):
    descriptor = mesh_root / "domains/brokerage/products/tenant_risk_exposure/dataproduct.yaml"
    descriptor.write_text(descriptor.read_text().replace("status: active", "status: draft", 1))
    defs = build_domain_definitions(mesh_root / "domains" / "brokerage")
    specs = {tuple(s.key.path): s for s in _specs(defs)}
    port = specs[("brokerage", "tenant_risk_exposure", "tenant_risk_exposure")]
    assert port.metadata["lifecycle/state"] == "draft"
    assert "brokerage__tenant_risk_exposure" in {job.name for job in defs.jobs}


def test_catalog_metadata_lists_consumers_and_their_purposes(mesh_root):
    defs = build_domain_definitions(mesh_root / "domains" / "checkout")
    spec = next(s for s in _specs(defs) if tuple(s.key.path) == tuple(ORDERS.split(".")))
    consumers = spec.metadata["mesh/consumers"].value
    assert [c["consumer"] for c in consumers] == ["recommendations.articles_bought_together"]
    assert consumers[0]["status"] == "active" and "bought together" in consumers[0]["purpose"]
    assert spec.metadata["lifecycle/state"] == "active"
    assert spec.metadata["lifecycle/access"] == "approval-required"

    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    spec = next(
        s
        for s in _specs(build_domain_definitions(mesh_root / "domains" / "checkout"))
        if tuple(s.key.path) == tuple(ORDERS.split("."))
    )
    assert spec.metadata["lifecycle/state"] == "deprecated"
    assert spec.metadata["lifecycle/sunset_date"] == "2027-03-01"
