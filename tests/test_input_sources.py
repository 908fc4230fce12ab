"""A consumer names the ports it reads; the platform says where they live.

The dbt sources of input ports are generated from the descriptors (publishing/input_sources.py)
and located by the target (publishing/target.py); a domain's own dbt files name no storage of
another domain. The real parse and the lineage they give are in test_lineage.py and
test_mesh_validation.py."""

from __future__ import annotations

import subprocess

import yaml
from governance_fixtures import ROOT, copy_mesh

from mesh_platform import settings
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.mesh.dbt_inputs import GENERATED_MACROS, GENERATED_SOURCES, input_calls
from mesh_platform.mesh.domain import load_domain
from mesh_platform.publishing import target
from mesh_platform.publishing.dbt_files import write_dbt_files
from mesh_platform.publishing.input_sources import sources_yaml

WEB_ORDERS = PortAddress.parse("checkout.web_orders_with_consent.web_orders_with_consent")  # daily-partitioned
RATINGS = PortAddress.parse("risk.entity_ratings.entity_ratings")
TENANTS = PortAddress.parse("brokerage.tenancy_analytics.current_tenants")


def _checked_in(project: str) -> list[str]:
    files = subprocess.run(
        ["git", "ls-files", f"dbt_projects/{project}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [(ROOT / f).read_text() for f in files]


def test_consumers_name_no_storage_of_their_producers():
    for project, producer in (("recommendations", "checkout"), ("brokerage", "risk")):
        for text in _checked_in(project):
            assert f"published/{producer}" not in text
            assert f"MESH_BQ_PUBLISHED_DATASET_{producer.upper()}" not in text
            assert f"{producer}_published" not in text


def test_each_declared_input_port_gets_a_source_located_on_both_targets():
    mesh = Mesh.load()
    doc = yaml.safe_load(sources_yaml(mesh.domain("recommendations"), mesh))
    [source] = doc["sources"]
    assert (source["name"], source["tables"][0]["name"]) == WEB_ORDERS.dbt_source
    assert source["schema"] == "{{ env_var('MESH_BQ_PUBLISHED_DATASET_CHECKOUT', 'checkout_published') }}"
    meta = source["tables"][0]["config"]["meta"]
    assert meta["mesh_input_port"] == str(WEB_ORDERS)
    assert meta["external_location"] == (
        "read_parquet('{{ env_var('MESH_DATA_DIR', '../../data') }}/"
        "published/checkout/web_orders_with_consent/web_orders_with_consent/current/*/*.parquet')"
    )
    [ratings] = yaml.safe_load(sources_yaml(mesh.domain("brokerage"), mesh))["sources"]
    assert ratings["tables"][0]["config"]["meta"]["external_location"].endswith(
        "/published/risk/entity_ratings/entity_ratings/current.parquet')"  # not partitioned: one file
    )


def test_the_target_locates_a_port(monkeypatch, tmp_path):
    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESH_BQ_PROJECT", "p")
    duckdb = target.DuckDBTarget()
    assert duckdb.port_dir(RATINGS) == settings.data_dir() / "published" / "risk" / "entity_ratings" / "entity_ratings"
    assert duckdb.live_path(RATINGS) == duckdb.port_dir(RATINGS) / "current.parquet"
    assert duckdb.live_location(RATINGS) is None  # nothing published yet
    duckdb.live_path(RATINGS).parent.mkdir(parents=True)
    duckdb.live_path(RATINGS).write_bytes(b"")
    assert duckdb.live_location(RATINGS) == str(duckdb.live_path(RATINGS))
    assert duckdb.read_path(WEB_ORDERS, partitioned=True) == duckdb.port_dir(WEB_ORDERS) / "current" / "*" / "*.parquet"
    assert target.BigQueryTarget(_client=object()).location(RATINGS) == "p.risk_published.entity_ratings"
    monkeypatch.setenv("MESH_BQ_PUBLISHED_DATASET_RISK", "ratings_out")  # dbt resolves it when it parses
    assert (
        target.dbt_source(RATINGS, False)["schema"]
        == "{{ env_var('MESH_BQ_PUBLISHED_DATASET_RISK', 'risk_published') }}"
    )


def test_generated_files_follow_the_descriptor_and_are_rewritten_only_when_it_changes(tmp_path, monkeypatch):
    copy_mesh(tmp_path, with_targets=False)
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    domain = load_domain(tmp_path / "domains" / "recommendations")
    sources, macros, _ = write_dbt_files(domain)
    assert sources == domain.dbt_project_dir / GENERATED_SOURCES and macros == domain.dbt_project_dir / GENERATED_MACROS
    assert f"'{WEB_ORDERS}': {list(WEB_ORDERS.dbt_source)!r}" in macros.read_text()
    written = sources.stat().st_mtime_ns
    write_dbt_files(domain)
    assert sources.stat().st_mtime_ns == written  # unchanged: `mesh prepare` keeps the manifest fresh

    descriptor = domain.products[0].file
    descriptor.write_text(descriptor.read_text().replace(f"value: {WEB_ORDERS}", f"value: {TENANTS}"))
    write_dbt_files(load_domain(tmp_path / "domains" / "recommendations"))
    assert sources.stat().st_mtime_ns > written
    [source] = yaml.safe_load(sources.read_text())["sources"]
    assert source["tables"][0]["config"]["meta"]["mesh_input_port"] == str(TENANTS)
    assert f"'{TENANTS}': {list(TENANTS.dbt_source)!r}" in macros.read_text()
    assert str(WEB_ORDERS) not in macros.read_text()


def test_mesh_input_calls_are_read_from_the_manifest_with_their_lines(tmp_path):
    manifest = {
        "nodes": {
            "model.p.m": {
                "name": "m",
                "resource_type": "model",
                "package_name": "p",
                "original_file_path": "models/m.sql",
                "raw_code": f"select *\nfrom {{{{ mesh_input('{WEB_ORDERS}') }}}}\njoin {{{{ mesh_input(\"a.b\") }}}}",
            },
            "model.other.m": {
                "name": "m",
                "resource_type": "model",
                "package_name": "other",
                "raw_code": "mesh_input('x.y.z')",
            },
        }
    }
    calls = input_calls(manifest, "p", tmp_path)
    assert [(c.model, c.file, c.line, c.written) for c in calls] == [
        ("m", tmp_path / "models/m.sql", 2, str(WEB_ORDERS)),
        ("m", tmp_path / "models/m.sql", 3, "a.b"),
    ]


def test_dbt_records_the_source_a_model_reads_through_mesh_input(mesh_data):
    """dbt captures a source() called inside the macro: the manifest (so dbt's lineage, the
    Mesh's edges and Dagster's keys) has the model reading the generated source."""
    manifest = Mesh.load().manifest("recommendations")
    model = manifest["nodes"]["model.recommendations.stg_checkout__web_orders_with_consent"]
    source = "source.recommendations.{}.{}".format(*WEB_ORDERS.dbt_source)
    assert model["depends_on"]["nodes"] == [source]
    assert "macro.recommendations.mesh_input" in model["depends_on"]["macros"]
    assert manifest["sources"][source]["meta"]["mesh_input_port"] == str(WEB_ORDERS)
    assert manifest["sources"][source]["original_file_path"] == GENERATED_SOURCES
