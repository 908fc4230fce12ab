"""One lineage graph across code locations: input ports resolve to producers' output ports,
and no domain reads another domain's internals (checked at load time, naming both sides)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from mesh_platform.dagster_wiring.lineage import product_of_models
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.domain import load_domain
from mesh_platform.publishing.dbt_files import write_dbt_files
from mesh_platform.specs.errors import SpecError
from mesh_platform.validation import validate_domain

ROOT = Path(__file__).resolve().parent.parent
WEB_ORDERS = "checkout.web_orders_with_consent.web_orders_with_consent"


def _specs(defs: dg.Definitions) -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for assets in defs.assets for spec in assets.specs}


def _materialisable(defs: dg.Definitions) -> set[dg.AssetKey]:
    return {key for assets in defs.assets if assets.is_executable for key in assets.keys}


def _cross_domain_edges(locations) -> list[tuple[str, dg.AssetKey, dg.AssetKey]]:
    edges = []
    for name, defs in locations.items():
        for key, spec in _specs(defs).items():
            for dep in spec.deps:
                if dep.asset_key.path[0] != name:
                    edges.append((name, key, dep.asset_key))
    return edges


def test_every_declared_input_port_is_an_edge_to_a_materialisable_output_port(locations):
    declared = 0
    for name, defs in locations.items():
        deps = {dep.asset_key for spec in _specs(defs).values() for dep in spec.deps}
        for product in load_domain(ROOT / "domains" / name).products:
            for port in product.spec.inputPorts:
                declared += 1
                key = dg.AssetKey(port.source.split("."))
                assert key in deps, f"{name}.{product.name} declares {port.source} but no asset depends on it"
                producer = locations[key.path[0]]
                assert key in _materialisable(producer), f"{key} is not materialisable in {key.path[0]}"
                assert _specs(producer)[key].tags["visibility"] == "output_port"
    assert declared >= 3  # recommendations <- checkout, risk <- brokerage, brokerage <- risk


def test_no_cross_domain_edge_points_at_an_internal_model(locations):
    edges = _cross_domain_edges(locations)
    assert edges, "expected edges between domains"
    for consumer, key, dep in edges:
        producer = locations[dep.path[0]]
        spec = _specs(producer).get(dep)
        assert spec is not None, f"{consumer}: {key} depends on {dep}, which {dep.path[0]} does not define"
        assert spec.tags["visibility"] == "output_port", f"{consumer}: {key} reads internal {dep}"
        assert dep in _materialisable(producer)


def test_internal_edges_stay_within_the_domain(locations):
    for name, defs in locations.items():
        for key, spec in _specs(defs).items():
            assert key.path[0] == name
            assert spec.group_name == name


def test_asset_graph_is_acyclic_across_locations(locations):
    """brokerage -> risk -> brokerage is fine between domains, never between assets."""
    graph = {}
    for defs in locations.values():
        for key, spec in _specs(defs).items():
            graph[key] = {dep.asset_key for dep in spec.deps}
    state: dict[dg.AssetKey, int] = {}

    def visit(node, path):
        if state.get(node) == 1:
            raise AssertionError(f"cycle: {' -> '.join(k.to_user_string() for k in path + [node])}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for dep in graph.get(node, ()):
            visit(dep, path + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


# --------------------------------------------------------------------------------------
# Load-time validation, on a copy of the repo's domains with one thing broken
# --------------------------------------------------------------------------------------
@pytest.fixture
def mesh_root(tmp_path, monkeypatch) -> Path:
    """A copy of the checkout (producer) and recommendations (consumer) domains."""
    for domain in ("checkout", "recommendations"):
        shutil.copytree(ROOT / "domains" / domain, tmp_path / "domains" / domain)
        shutil.copytree(
            ROOT / "dbt_projects" / domain,
            tmp_path / "dbt_projects" / domain,
            ignore=shutil.ignore_patterns("target", "logs"),
        )
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


SOURCES = "dbt_projects/recommendations/models/staging/_sources.yml"  # hand-written sources, in some cases
SQL = "dbt_projects/recommendations/models/staging/stg_checkout__web_orders_with_consent.sql"  # reads WEB_ORDERS
CALL = f"{{{{ mesh_input('{WEB_ORDERS}') }}}}"
DESCRIPTOR = "domains/recommendations/products/articles_bought_together/dataproduct.yaml"


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new))


def _hand_written_source(root: Path, meta: dict) -> None:
    """The model reads WEB_ORDERS through a dbt source written by hand instead of mesh_input()."""
    table = {"name": "web_orders_with_consent", "config": {"meta": meta}}
    (root / SOURCES).write_text(yaml.safe_dump({"version": 2, "sources": [{"name": "orders", "tables": [table]}]}))
    _edit(root, SQL, CALL, "{{ source('orders', 'web_orders_with_consent') }}")


def _manifest_from_sources(root: Path, project: str = "recommendations") -> dict:
    """The `sources` and models of a dbt manifest, as dbt builds them from the project's YAML --
    the platform's generated input-port sources included -- and SQL (meta merged)."""
    project_dir = root / "dbt_projects" / project
    write_dbt_files(load_domain(root / "domains" / project))
    sources = {}
    for yml in sorted((project_dir / "models").rglob("*.yml")):
        for source in (yaml.safe_load(yml.read_text()) or {}).get("sources") or []:
            for table in source["tables"]:
                meta = {**(source.get("config", {}).get("meta") or {}), **(table.get("config", {}).get("meta") or {})}
                meta = {
                    k: v.replace("{{ env_var('MESH_DATA_DIR', '../../data') }}", "/data") if isinstance(v, str) else v
                    for k, v in meta.items()
                }
                uid = f"source.{project}.{source['name']}.{table['name']}"
                sources[uid] = {
                    "unique_id": uid,
                    "package_name": project,
                    "source_name": source["name"],
                    "name": table["name"],
                    "meta": meta,
                    "source_meta": {},
                    "original_file_path": yml.relative_to(project_dir).as_posix(),
                }
    nodes = {
        f"model.{project}.{sql.stem}": {
            "name": sql.stem,
            "resource_type": "model",
            "package_name": project,
            "raw_code": sql.read_text(),
            "original_file_path": sql.relative_to(project_dir).as_posix(),
        }
        for sql in (project_dir / "models").rglob("*.sql")
    }
    return {"metadata": {"project_name": project}, "sources": sources, "nodes": nodes}


def _problems(root: Path) -> str:
    mesh = Mesh.load(root / "domains", manifests={"recommendations": _manifest_from_sources(root)})
    problems = validate_domain(mesh, "recommendations")
    assert problems
    return str(SpecError(problems))


def _line_of(root: Path, rel: str, needle: str) -> int:
    return next(i for i, line in enumerate((root / rel).read_text().splitlines(), 1) if needle in line)


def test_valid_copy_passes(mesh_root):
    mesh = Mesh.load(mesh_root / "domains", manifests={"recommendations": _manifest_from_sources(mesh_root)})
    assert validate_domain(mesh, "recommendations") == []


def test_reading_another_domains_internal_model_names_both_sides(mesh_root):
    _edit(mesh_root, SQL, WEB_ORDERS, "checkout.web_orders_with_consent.int_order_lines")
    message = _problems(mesh_root)
    line = _line_of(mesh_root, SQL, "mesh_input(")
    assert f"{mesh_root / SQL}:{line}:" in message
    assert "'int_order_lines' is an internal model of domain 'checkout'" in message
    assert str(mesh_root / "dbt_projects/checkout/models/intermediate/int_order_lines.sql") in message
    assert "not an output port" in message


def test_port_that_does_not_exist_names_both_sides(mesh_root):
    _edit(mesh_root, SQL, WEB_ORDERS, "checkout.web_orders_with_consent.web_orders_v2")
    message = _problems(mesh_root)
    assert f"{mesh_root / SQL}:" in message
    assert "has no output port 'web_orders_v2'" in message
    assert str(mesh_root / "domains/checkout/products/web_orders_with_consent/dataproduct.yaml") in message


def test_unknown_domain(mesh_root):
    _edit(mesh_root, SQL, WEB_ORDERS, "payments.web_orders_with_consent.web_orders_with_consent")
    assert "there is no domain 'payments'" in _problems(mesh_root)


def test_descriptor_input_port_without_dbt_source(mesh_root):
    # the model reads the port's file through a plain source instead of mesh_input()
    location = (
        "read_parquet('/data/published/checkout/web_orders_with_consent/web_orders_with_consent/current.parquet')"
    )
    _hand_written_source(mesh_root, {"external_location": location})
    message = _problems(mesh_root)
    line = _line_of(mesh_root, DESCRIPTOR, f"value: {WEB_ORDERS}")  # the port's `source` customProperty
    assert (
        f"{mesh_root / DESCRIPTOR}:{line}: inputPorts[0].customProperties[0].value: input port '{WEB_ORDERS}' is read by no dbt source"
        in message
    )
    # ...and the source, left reading a published snapshot without naming it, is reported too.
    assert "reads a published snapshot" in message


def test_dbt_source_without_descriptor_input_port(mesh_root):
    _edit(
        mesh_root,
        DESCRIPTOR,
        f"""inputPorts:
  - name: web_orders_with_consent
    contractId: web-orders-with-consent-v1
    version: 1.0.0
    customProperties:
      - property: source
        value: {WEB_ORDERS}
""",
        "inputPorts: []\n",
    )
    _edit(mesh_root, DESCRIPTOR, "      trigger: upstream_published\n", '      cron: "0 6 * * *"\n')
    message = _problems(mesh_root)
    line = _line_of(mesh_root, SQL, "mesh_input(")
    assert f"{mesh_root / SQL}:{line}:" in message
    assert f"reads output port '{WEB_ORDERS}', but no product of domain 'recommendations' declares it" in message


def test_input_port_contract_id_must_match_the_producers(mesh_root):
    _edit(mesh_root, DESCRIPTOR, "contractId: web-orders-with-consent-v1", "contractId: web-orders-v9")
    message = _problems(mesh_root)
    assert f"{mesh_root / DESCRIPTOR}:" in message and "inputPorts[0].contractId" in message
    assert "expected 'web-orders-with-consent-v1'" in message


def test_source_must_read_the_published_snapshot(mesh_root):
    # a hand-written source for the port, reading the producer's warehouse
    location = "read_parquet('/data/warehouse/checkout.duckdb')"
    _hand_written_source(mesh_root, {"mesh_input_port": WEB_ORDERS, "external_location": location})
    message = _problems(mesh_root)
    assert "must read the producer's published snapshot" in message


def test_plain_source_reading_another_domains_landing_data(mesh_root):
    path = mesh_root / SOURCES
    path.write_text(
        """version: 2
sources:
  - name: sneaky
    tables:
      - name: web_sales
        config:
          meta:
            external_location: "read_parquet('{{ env_var('MESH_DATA_DIR', '../../data') }}/landing/checkout/web_sales.parquet')"
"""
    )
    message = _problems(mesh_root)
    assert "source sneaky.web_sales" in message
    assert "reads domain 'checkout''s internal data" in message


def test_broken_input_port_fails_the_code_location_with_both_files(mesh_root, mesh_data):
    """Through the real loader (dbt parse included): the consumer's location does not load."""
    from mesh_platform import settings
    from mesh_platform.dagster_wiring.dbt_parse import prepare
    from mesh_platform.dagster_wiring.dbt_project import dbt_project
    from mesh_platform.dagster_wiring.definitions import build_domain_definitions

    _edit(mesh_root, SQL, WEB_ORDERS, "checkout.web_orders_with_consent.int_order_lines")
    prepare(dbt_project(mesh_root / "dbt_projects" / "recommendations", settings.target()))
    with pytest.raises(SpecError) as exc:
        build_domain_definitions(mesh_root / "domains" / "recommendations")
    message = str(exc.value)
    assert str(mesh_root / SQL) in message and "int_order_lines.sql" in message


# --------------------------------------------------------------------------------------
# Which product a model belongs to
# --------------------------------------------------------------------------------------
def _node(name: str, deps: list[str]) -> tuple[str, dict]:
    return f"model.p.{name}", {
        "name": name,
        "resource_type": "model",
        "package_name": "p",
        "depends_on": {"nodes": [f"model.p.{d}" for d in deps]},
    }


def test_a_product_reading_another_products_port_does_not_take_its_internals():
    nodes = dict(
        [
            _node("stg", []),
            _node("fct", ["stg"]),
            _node("port_a", ["fct"]),
            _node("port_b", ["port_a", "stg_b"]),
            _node("stg_b", []),
            _node("dim", ["stg"]),
            _node("port_c", ["dim"]),
            _node("port_d", ["dim"]),
        ]
    )
    owners = product_of_models({"nodes": nodes}, "p", {"port_a": "a", "port_b": "b", "port_c": "c", "port_d": "d"})
    assert owners["model.p.port_a"] == "a" and owners["model.p.fct"] == "a"
    assert owners["model.p.port_b"] == "b" and owners["model.p.stg_b"] == "b"
    assert owners["model.p.stg"] == "shared"  # fct (a) and dim (c, d) both read it
    assert owners["model.p.dim"] == "shared"


# --------------------------------------------------------------------------------------
# One lineage truth: Dagster's graph, the Mesh's edges and the catalog's, down to columns
# --------------------------------------------------------------------------------------
def _dagster_product_edges(locations) -> set[tuple[str, str, str]]:
    """(producer product, consumer product, port) from the asset graph Dagster draws: an asset
    of a product depending (directly, or through the domain's shared models) on another
    product's output port."""
    specs = {key: spec for defs in locations.values() for key, spec in _specs(defs).items()}
    ports = {key for key, spec in specs.items() if spec.tags.get("visibility") == "output_port"}
    edges = set()
    for key, spec in specs.items():
        if key.path[1] in ("shared", "landing"):
            continue
        stack, seen = [dep.asset_key for dep in spec.deps], set()
        while stack:
            dep = stack.pop()
            if dep in seen:
                continue
            seen.add(dep)
            if dep in ports and dep.path[:2] != key.path[:2]:
                edges.add((".".join(dep.path[:2]), ".".join(key.path[:2]), ".".join(dep.path)))
            elif dep.path[1] == "shared" and dep in specs:
                stack += [d.asset_key for d in specs[dep].deps]
    return edges


def test_catalog_edges_are_the_edges_dagster_draws(locations):
    from mesh_platform.catalog.build import _edges
    from mesh_platform.catalog.source import load_source

    drawn = _dagster_product_edges(locations)
    # within one domain: tenant_risk_exposure ref()s tenancy_analytics' port model
    assert (
        "brokerage.tenancy_analytics",
        "brokerage.tenant_risk_exposure",
        "brokerage.tenancy_analytics.rent_by_month_and_tenant",
    ) in drawn
    catalog = {(e.producer, e.consumer, e.port) for e in _edges(load_source())}
    assert catalog == drawn


def test_a_consumer_asset_carries_column_lineage_to_the_producer_ports_columns(locations):
    port_key = dg.AssetKey(WEB_ORDERS.split("."))
    producer_columns = {
        c.name for c in _specs(locations["checkout"])[port_key].metadata["dagster/column_schema"].columns
    }
    consumer = _specs(locations["recommendations"])[
        dg.AssetKey(["recommendations", "articles_bought_together", "stg_checkout__web_orders_with_consent"])
    ]
    lineage = consumer.metadata["dagster/column_lineage"]
    assert isinstance(lineage, dg.TableColumnLineage)
    assert lineage.deps_by_column["item_category"] == [
        dg.TableColumnDep(asset_key=port_key, column_name="item_category")
    ]
    assert set(lineage.deps_by_column) == {"order_number", "line_number", "item_id", "item_category", "sold_date"}
    for deps in lineage.deps_by_column.values():
        for dep in deps:
            assert dep.asset_key in {d.asset_key for d in consumer.deps}
            assert dep.column_name in producer_columns
    # and through ref() to another product's port of the same domain, renamed columns included
    exposure = _specs(locations["brokerage"])[
        dg.AssetKey(["brokerage", "tenant_risk_exposure", "tenant_risk_exposure"])
    ]
    rent = dg.AssetKey(["brokerage", "tenancy_analytics", "rent_by_month_and_tenant"])
    assert exposure.metadata["dagster/column_lineage"].deps_by_column["monthly_rent"] == [
        dg.TableColumnDep(asset_key=rent, column_name="rent_amount")
    ]
    assert "rating" not in exposure.metadata["dagster/column_lineage"].deps_by_column  # from risk, via a model


def test_column_reads_follow_ctes_and_stars(tmp_path):
    from mesh_platform.mesh.column_reads import relation_reads

    models = tmp_path / "models"
    models.mkdir()
    (models / "reader.sql").write_text(
        "with r as (select * from {{ ref('port') }})\n"
        "select r.a as a2, upper(r.d) as d from r where r.b > {{ var('x') }}\n"
    )
    (models / "star.sql").write_text(
        "select p.*, o.z from {{ ref('port') }} p join {{ ref('other') }} o on o.k = p.a\n"
    )
    (models / "broken.sql").write_text("select a, from {{ ref('port') }} where ((\n")
    (models / "unrelated.sql").write_text("select * from {{ ref('other') }}\n")
    uses = {u.model: u for u in relation_reads(tmp_path, ("ref", "port"), ["a", "b", "c", "d"])}
    assert set(uses) == {"reader", "star", "broken"}
    assert uses["reader"].columns == {"a", "b", "d"}  # c: selected by the star, used by nothing
    assert uses["reader"].lineage == {"a2": {"a"}, "d": {"d"}}  # b only filters
    assert uses["star"].columns == {"a", "b", "c", "d"} and uses["star"].lineage["c"] == {"c"}
    assert uses["broken"].columns == {"a"} and uses["broken"].lineage is None  # word match, no lineage
