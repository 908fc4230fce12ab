"""Declarative automation: a consumer product whose descriptor says
`schedule: {trigger: upstream_published}` is requested when an upstream output port it
reads is published -- and a consumer of that consumer only after it publishes in turn."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from mesh_platform.dagster_wiring.automation import automation_sensor, product_automation_condition
from mesh_platform.mesh.domain import Domain, load_domain

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "domains" / "checkout"
PRODUCT = "web_orders_with_consent"
DESCRIPTOR = Path("products") / PRODUCT / "dataproduct.yaml"
SCHEDULE = '  - property: schedule\n    value:\n      cron: "0 5 * * *"\n      timezone: Europe/Berlin\n'


def consumer_domain(tmp_path: Path, name: str, reads: str) -> Domain:
    """A copy of the checkout domain, renamed, whose product reads `reads` and runs on its publication."""
    target = tmp_path / name
    shutil.copytree(CHECKOUT, target)
    for file, old, new in [
        (target / "domain.yaml", "name: checkout\n", f"name: {name}\n"),
        (target / DESCRIPTOR, "domain: checkout\n", f"domain: {name}\n"),
        (
            target / DESCRIPTOR,
            "inputPorts: []\n",
            "inputPorts:\n  - {name: upstream, version: 1.0.0, contractId: upstream-v1,\n"
            f"     customProperties: [{{property: source, value: {reads}}}]}}\n",
        ),
        (target / DESCRIPTOR, SCHEDULE, "  - property: schedule\n    value: {trigger: upstream_published}\n"),
    ]:
        text = file.read_text()
        assert text.count(old) == 1, (file, old)
        file.write_text(text.replace(old, new))
    return load_domain(target)


def product_assets(domain: Domain, upstream: dg.AssetKey) -> dg.AssetsDefinition:
    """A product the way the platform shapes it: a subsettable multi-asset keyed
    [domain, product, table], one model reading the input port, one reading the domain's own
    landing data, and the output port built from both; every asset gets the product's condition."""
    condition = product_automation_condition(domain, PRODUCT)
    assert condition is not None

    def key(table):
        return dg.AssetKey([domain.name, PRODUCT, table])

    specs = [
        dg.AssetSpec(key("stg_upstream"), deps=[upstream], automation_condition=condition),
        dg.AssetSpec(
            key("stg_landing"), deps=[dg.AssetKey([domain.name, "landing", "t"])], automation_condition=condition
        ),
        dg.AssetSpec(key(PRODUCT), deps=[key("stg_upstream"), key("stg_landing")], automation_condition=condition),
        # the product's second output port (the copy keeps checkout's v2)
        dg.AssetSpec(
            key(f"{PRODUCT}_v2"), deps=[key("stg_upstream"), key("stg_landing")], automation_condition=condition
        ),
    ]

    @dg.multi_asset(specs=specs, can_subset=True, name=f"{domain.name}_models")
    def _models(context):
        for spec in specs:  # in dependency order
            if spec.key in context.selected_asset_keys:
                yield dg.MaterializeResult(asset_key=spec.key)

    return _models


@pytest.fixture
def mesh(tmp_path):
    producer_port = dg.AssetKey(["checkout", PRODUCT, PRODUCT])
    first = consumer_domain(tmp_path, "reporting", reads=f"checkout.{PRODUCT}.{PRODUCT}")
    second = consumer_domain(tmp_path, "board", reads=f"reporting.{PRODUCT}.{PRODUCT}")

    @dg.asset(key=producer_port)
    def producer():  # the producer's published output port
        return None

    reporting = product_assets(first, producer_port)
    board = product_assets(second, dg.AssetKey(["reporting", PRODUCT, PRODUCT]))
    defs = dg.Definitions(
        assets=[producer, reporting, board], sensors=[automation_sensor(first), automation_sensor(second)]
    )
    return defs, producer, reporting, board


def _requested(result) -> set[dg.AssetKey]:
    return {r.key for r in result.results if r.true_subset.size > 0}


def test_publishing_an_upstream_port_requests_the_consumer_product(mesh):
    defs, producer, reporting, board = mesh
    instance = dg.DagsterInstance.ephemeral()

    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert result.total_requested == 0  # nothing published yet: nothing to do

    assert dg.materialize([producer], instance=instance).success  # checkout publishes its port
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # the tick that sees the publication waits (settles) ...
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert _requested(result) == set(reporting.keys)  # ... the next: the whole product, not the next consumer

    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # once per publication, not every tick

    # reporting's run publishes its port; then (and only then) the board's product runs
    assert dg.materialize([reporting], instance=instance, selection=list(reporting.keys)).success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert _requested(result) == set(board.keys)

    assert dg.materialize([producer], instance=instance).success  # the next publication
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert _requested(result) == set(reporting.keys)


def test_a_missing_input_holds_the_consumer_back(mesh):
    """A consumer never starts while its input port is missing (nothing published yet)."""
    defs, producer, reporting, board = mesh
    instance = dg.DagsterInstance.ephemeral()
    # the board's input (reporting's port) is missing even after checkout publishes
    assert dg.materialize([producer], instance=instance).success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert not (_requested(result) & set(board.keys))


def test_automation_sensor_targets_the_domain_and_tags_runs(tmp_path):
    domain = consumer_domain(tmp_path, "reporting", reads=f"checkout.{PRODUCT}.{PRODUCT}")
    sensor = automation_sensor(domain)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.run_tags == {"domain": "reporting", "launched_by": "automation"}
    assert product_automation_condition(load_domain(CHECKOUT), PRODUCT) is None  # cron products: none


# --- through the real platform: a consumer domain from its folder and dbt project ---------

CONSUMER = ROOT / "domains" / "recommendations"
CONSUMER_PRODUCT = "articles_bought_together"


@pytest.mark.skipif(not CONSUMER.exists(), reason="needs the recommendations domain (a consumer of checkout)")
def test_a_consumer_domain_runs_when_the_checkout_port_is_published(mesh_data, tmp_path):
    """recommendations reads checkout's output port through a dbt source; with
    `trigger: upstream_published` in its descriptor (edited in a copy), the platform's own
    Definitions request the whole product once checkout's port has a new materialisation."""
    from mesh_platform.dagster_wiring.definitions import build_domain_definitions

    target = tmp_path / CONSUMER.name
    shutil.copytree(CONSUMER, target)
    file = target / "products" / CONSUMER_PRODUCT / "dataproduct.yaml"
    lines = file.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line == "  - property: schedule")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("  - "))
    lines[start:end] = ["  - property: schedule", "    value: {trigger: upstream_published}"]  # whatever it was
    file.write_text("\n".join(lines) + "\n")
    defs = build_domain_definitions(target)

    product_keys = {s.key for a in defs.assets for s in a.specs if s.tags.get("product") == CONSUMER_PRODUCT}
    assert product_keys
    assert not [s for s in defs.schedules or [] if CONSUMER_PRODUCT in s.name]  # no cron guesswork
    port = dg.AssetKey(["checkout", PRODUCT, PRODUCT])
    instance = dg.DagsterInstance.ephemeral()

    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert result.total_requested == 0
    # what the checkout run records once its contract passed and the snapshot is live
    instance.report_runless_asset_event(dg.AssetMaterialization(port))
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # settles for a tick
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert _requested(result) == product_keys
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0
