"""Every product's schedule (cron, timezone, selection) or upstream trigger, read against its
descriptor; parametrized over every product under domains/, so a new domain is covered."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from mesh_platform.cli.workspace import load_module
from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTORS = sorted((ROOT / "domains").glob("*/products/*/dataproduct.yaml"))
CHECKOUT = ROOT / "domains" / "checkout"
CHECKOUT_DESCRIPTOR = Path("products") / "web_orders_with_consent" / "dataproduct.yaml"


def _id(path: Path) -> str:
    return f"{path.parents[2].name}.{path.parent.name}"


@pytest.fixture(scope="module")
def domain_defs(mesh_data):
    cache: dict[str, dg.Definitions] = {}

    def get(domain: str) -> dg.Definitions:
        if domain not in cache:
            module = load_module(ROOT / "domains" / domain / "definitions.py", f"sched_{domain}")
            cache[domain] = module.defs
        return cache[domain]

    return get


def _product_keys(defs: dg.Definitions, domain: str, product: str) -> set[dg.AssetKey]:
    """Independently of the job: the assets the translator tagged with this product."""
    return {
        spec.key
        for assets in defs.assets
        for spec in assets.specs
        if spec.tags.get("domain") == domain and spec.tags.get("product") == product
    }


def _checks_on(defs: dg.Definitions, keys: set[dg.AssetKey]) -> set[dg.AssetCheckKey]:
    # contract and policy checks ride on the assets (asset-check definitions of their own, if any, too)
    owners = [*defs.assets, *(defs.asset_checks or [])]
    return {spec.key for owner in owners for spec in owner.check_specs if spec.asset_key in keys}


def _custom(obj: dict, name: str):
    """An ODPS customProperty's value, read from the raw YAML independently of the loader."""
    return next((p["value"] for p in obj.get("customProperties") or [] if p["property"] == name), None)


def test_every_domain_has_products():
    assert DESCRIPTORS, "no product descriptors found under domains/"


@pytest.mark.parametrize("descriptor", DESCRIPTORS, ids=_id)
def test_product_schedule_matches_descriptor(descriptor, domain_defs):
    raw = yaml.safe_load(descriptor.read_text())
    domain, product = raw["domain"], raw["name"]
    defs = domain_defs(domain)
    keys = _product_keys(defs, domain, product)
    assert keys, f"no assets for {domain}.{product}"
    graph = defs.resolve_asset_graph()

    job = defs.resolve_job_def(f"{domain}__{product}")
    assert job.tags["domain"] == domain and job.tags["product"] == product  # the run queue's key
    assert set(job.asset_layer.selected_asset_keys) == keys
    unresolved = next(j for j in defs.jobs if j.name == job.name)  # checks ride along with their assets
    assert unresolved.selection.resolve_checks(graph) == _checks_on(defs, keys)

    schedule_raw = _custom(raw, "schedule")
    schedule_names = {s.name for s in defs.schedules or []}
    name = f"{domain}__{product}__schedule"
    if schedule_raw is None:
        assert name not in schedule_names
    elif schedule_raw.get("trigger") == "upstream_published":
        assert name not in schedule_names  # no cron guesswork: automation runs it
        upstream = {dg.AssetKey(_custom(p, "source").split(".")) for p in raw["inputPorts"]}
        assert upstream
        for key in keys:
            condition = graph.get(key).automation_condition
            assert condition is not None and condition.get_label() == "upstream_published", key
        sensor = defs.resolve_sensor_def(f"{domain}__automation")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.run_tags["domain"] == domain
    else:
        schedule = defs.resolve_schedule_def(name)
        assert schedule.cron_schedule == schedule_raw["cron"]
        assert schedule.execution_timezone == schedule_raw.get("timezone", "UTC")
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.job_name == job.name
        for key in keys:  # a cron product is not also run by automation
            assert graph.get(key).automation_condition is None, key


@pytest.mark.parametrize(
    "domain_dir", sorted(p.parent for p in (ROOT / "domains").glob("*/domain.yaml")), ids=lambda p: p.name
)
def test_alert_and_automation_sensors_are_on_by_default(domain_dir, domain_defs):
    defs = domain_defs(domain_dir.name)
    for name in (f"{domain_dir.name}__alerts", f"{domain_dir.name}__automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


# --- the descriptor field: errors name file, line and field -------------------------------


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    target = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, target)
    return target


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert text.count(old) == 1
    file.write_text(text.replace(old, new))


def _line(file: Path, text: str) -> int:
    hits = [i for i, line in enumerate(file.read_text().splitlines(), 1) if line.rstrip() == text]
    assert len(hits) == 1, hits
    return hits[0]


def _only_problem(domain_dir: Path):
    with pytest.raises(SpecError) as info:
        load_domain(domain_dir)
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0]


SCHEDULE = '  - property: schedule\n    value:\n      cron: "0 5 * * *"\n      timezone: Europe/Berlin\n'
SCHEDULE_FIELD = "customProperties[1].value"  # after the title
INPUT_PORT = (
    "inputPorts:\n  - {name: x, version: 1.0.0, contractId: x-v1,\n"
    "     customProperties: [{property: source, value: other.product.port}]}\n"
)


def _schedule(*lines: str) -> str:
    """The schedule customProperty with these lines as its value."""
    return "  - property: schedule\n    value:\n" + "".join(f"      {line}\n" for line in lines)


def test_upstream_trigger_without_input_ports_is_an_error(checkout_copy):
    file = checkout_copy / CHECKOUT_DESCRIPTOR
    _edit(file, SCHEDULE, _schedule("trigger: upstream_published"))
    problem = _only_problem(checkout_copy)
    assert (problem.file, problem.line, problem.field) == (
        file,
        _line(file, "  - property: schedule") + 1,
        SCHEDULE_FIELD,
    )
    assert "inputPorts" in problem.message and "upstream_published" in problem.message


def test_upstream_trigger_with_a_cron_is_an_error(checkout_copy):
    file = checkout_copy / CHECKOUT_DESCRIPTOR
    _edit(file, "inputPorts: []\n", INPUT_PORT)
    _edit(file, SCHEDULE, _schedule("trigger: upstream_published", 'cron: "0 5 * * *"'))
    problem = _only_problem(checkout_copy)
    assert (problem.line, problem.field) == (_line(file, "  - property: schedule") + 1, SCHEDULE_FIELD)
    assert "remove 'cron'" in problem.message


def test_unknown_trigger_is_an_error(checkout_copy):
    file = checkout_copy / CHECKOUT_DESCRIPTOR
    _edit(file, SCHEDULE, _schedule("trigger: hourly-ish"))
    problem = _only_problem(checkout_copy)
    assert (problem.line, problem.field) == (_line(file, "      trigger: hourly-ish"), f"{SCHEDULE_FIELD}.trigger")
    assert "upstream_published" in problem.message


def test_cron_trigger_needs_a_cron(checkout_copy):
    file = checkout_copy / CHECKOUT_DESCRIPTOR
    _edit(file, SCHEDULE, _schedule("timezone: Europe/Berlin"))
    problem = _only_problem(checkout_copy)
    assert (problem.line, problem.field) == (_line(file, "  - property: schedule") + 1, SCHEDULE_FIELD)
    assert "expected a 'cron'" in problem.message


def test_upstream_trigger_is_accepted_with_input_ports(checkout_copy):
    file = checkout_copy / CHECKOUT_DESCRIPTOR
    _edit(file, "inputPorts: []\n", INPUT_PORT)
    _edit(file, SCHEDULE, "  - property: schedule\n    value: {trigger: upstream_published}\n")
    (product,) = load_domain(checkout_copy).products
    assert product.spec.schedule.on_upstream


# --- the dev instance: daemon with schedules, sensors, automation; one run per domain -------


def test_dev_instance_config_queues_one_run_per_domain(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # as `make dev` exports it
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with _instance(home) as instance:
        from dagster._core.run_coordinator import QueuedRunCoordinator

        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert {
            "key": "domain",
            "value": {"applyLimitPerUniqueValue": True},
            "limit": 1,
        } in queue.tag_concurrency_limits
        assert queue.should_block_op_concurrency_limited_runs
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1 and pools.pool_granularity.value == "op"
        daemons = set(instance.get_required_daemon_types())
        assert {"SCHEDULER", "SENSOR", "ASSET", "FRESHNESS_DAEMON", "QUEUED_RUN_COORDINATOR"} <= daemons
        assert instance.auto_materialize_use_sensors


def _instance(home: Path):
    return dg.DagsterInstance.from_config(str(home))
