"""Freshness from contracts: each output port's FreshnessPolicy against its contract's SLA
(parametrized over every port under domains/); the deadline form; clear errors; and
Dagster's freshness daemon turning the policy into PASS / WARN / FAIL at the right times."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.freshness import (
    CronFreshnessPolicy,
    FreshnessState,
    TimeWindowFreshnessPolicy,
)
from freshness_daemon import evaluate_freshness, freeze_time, freshness_changes, workspace

from mesh_platform.cli.workspace import load_module
from mesh_platform.dagster_wiring.freshness import freshness_policy
from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "domains" / "checkout"
CONTRACT = Path("products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml")
FRESHNESS_PROP = """  - property: freshness
    value: 24
    valueExt: 20
    unit: h
"""
UNITS = {
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "minutes": 60,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "s": 1,
    "w": 604800,
}


def _ports():
    """(domain, product, port, contract file) for every output port under domains/."""
    out = []
    for descriptor in sorted((ROOT / "domains").glob("*/products/*/dataproduct.yaml")):
        raw = yaml.safe_load(descriptor.read_text())
        contracts = {
            yaml.safe_load(f.read_text())["id"]: f for f in (descriptor.parent / "contracts").glob("*.odcs.yaml")
        }
        for port in raw["outputPorts"]:
            out.append((raw["domain"], raw["name"], port["name"], contracts.get(port["contractId"])))
    return out


def _seconds(value, unit) -> int:
    """The contract's duration, read independently of the platform's parser."""
    if isinstance(value, str):
        m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", value)
        d, h, mi = (int(x or 0) for x in m.groups())
        return d * 86400 + h * 3600 + mi * 60
    return int(value * UNITS[unit.lower()])


def _expected_policy(contract_file: Path):
    props = yaml.safe_load(contract_file.read_text()).get("slaProperties") or []
    for prop in props:
        name = prop["property"].lower()
        if name in ("freshness", "latency"):
            warn = prop.get("valueExt")
            return TimeWindowFreshnessPolicy.from_timedeltas(
                timedelta(seconds=_seconds(prop["value"], prop.get("unit"))),
                timedelta(seconds=_seconds(warn, prop.get("unit"))) if warn is not None else None,
            )
        if name == "timeofavailability":
            hh, mm, *tz = prop["value"].replace(":", " ").split()
            window = prop.get("valueExt")
            return CronFreshnessPolicy(
                deadline_cron=f"{int(mm)} {int(hh)} * * *",
                lower_bound_delta=timedelta(seconds=_seconds(window, prop.get("unit")) if window else 86400),
                timezone=tz[0] if tz else "UTC",
            )
    return None


@pytest.fixture(scope="module")
def specs(mesh_data):
    cache = {}

    def get(domain):
        if domain not in cache:
            defs = load_module(ROOT / "domains" / domain / "definitions.py", f"fresh_{domain}").defs
            cache[domain] = {s.key: s for a in defs.assets for s in a.specs}
        return cache[domain]

    return get


@pytest.mark.parametrize("domain, product, port, contract", _ports(), ids=lambda v: getattr(v, "name", v))
def test_port_freshness_policy_matches_contract_sla(domain, product, port, contract, specs):
    assert contract is not None, f"{domain}.{product}.{port}: no contract file"
    spec = specs(domain)[dg.AssetKey([domain, product, port])]
    expected = _expected_policy(contract)
    assert spec.freshness_policy == expected
    if isinstance(expected, TimeWindowFreshnessPolicy) and expected.warn_window:
        assert expected.warn_window.to_timedelta() < expected.fail_window.to_timedelta()
    # internal models carry no policy: only output ports make promises
    for key, other in specs(domain).items():
        if key.path[:2] == [domain, product] and other.tags.get("visibility") == "internal":
            assert other.freshness_policy is None, key


# --- the deadline form -------------------------------------------------------------------


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    target = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, target)
    return target


def _set_sla(domain_dir: Path, new: str) -> Path:
    file = domain_dir / CONTRACT
    text = file.read_text()
    assert text.count(FRESHNESS_PROP) == 1
    file.write_text(text.replace(FRESHNESS_PROP, new))
    return file


def _line(file: Path, text: str) -> int:
    hits = [i for i, line in enumerate(file.read_text().splitlines(), 1) if line.rstrip() == text]
    assert len(hits) == 1, hits
    return hits[0]


def test_daily_deadline_becomes_a_cron_policy(checkout_copy):
    _set_sla(checkout_copy, '  - property: timeOfAvailability\n    value: "06:00 Europe/Berlin"\n')
    sla = load_domain(checkout_copy).ports()[0].contract.sla()
    assert sla.freshness is None and sla.deadline_cron == "0 6 * * *"
    policy = freshness_policy(sla)
    assert policy == CronFreshnessPolicy(
        deadline_cron="0 6 * * *", lower_bound_delta=timedelta(hours=24), timezone="Europe/Berlin"
    )
    from mesh_platform.dagster_wiring.catalog_metadata import port_metadata

    meta = port_metadata(load_domain(checkout_copy).ports()[0])
    assert meta["sla/deadline"] == "by 06:00 Europe/Berlin daily" and meta["sla/freshness"] == ""


def test_daily_deadline_with_an_update_window(checkout_copy):
    _set_sla(checkout_copy, '  - property: timeOfAvailability\n    value: "05:30"\n    valueExt: 2\n    unit: h\n')
    policy = freshness_policy(load_domain(checkout_copy).ports()[0].contract.sla())
    assert policy == CronFreshnessPolicy(
        deadline_cron="30 5 * * *", lower_bound_delta=timedelta(hours=2), timezone="UTC"
    )


@pytest.mark.parametrize(
    "value, field, words",
    [
        ('"at six"', "value", ["HH:MM", "at six"]),
        ('"25:00 Europe/Berlin"', "value", ["HH:MM"]),
        ('"06:00 Mars/Base"', "value", ["timezone", "Mars/Base"]),
    ],
)
def test_bad_deadline_names_line_and_field(checkout_copy, value, field, words):
    file = _set_sla(checkout_copy, f"  - property: timeOfAvailability\n    value: {value}\n")
    with pytest.raises(SpecError) as info:
        load_domain(checkout_copy)
    (problem,) = info.value.problems
    assert problem.file == file and problem.field == f"slaProperties[0].{field}"
    assert problem.line == _line(file, f"    value: {value}")
    for word in words:
        assert word in problem.message


def test_deadline_window_longer_than_a_day_is_an_error(checkout_copy):
    file = _set_sla(
        checkout_copy, '  - property: timeOfAvailability\n    value: "06:00"\n    valueExt: 30\n    unit: h\n'
    )
    with pytest.raises(SpecError) as info:
        load_domain(checkout_copy)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (_line(file, "    valueExt: 30"), "slaProperties[0].valueExt")
    assert "24h" in problem.message


def test_window_and_deadline_together_is_an_error(checkout_copy):
    file = _set_sla(checkout_copy, FRESHNESS_PROP + '  - property: timeOfAvailability\n    value: "06:00"\n')
    with pytest.raises(SpecError) as info:
        load_domain(checkout_copy)
    (problem,) = info.value.problems
    assert problem.line == _line(file, "  - property: timeOfAvailability")
    assert "not both" in problem.message


# --- Dagster's freshness daemon evaluates what the contract promised ----------------------


DEFS = """
import dagster as dg
from mesh_platform.dagster_wiring.freshness import freshness_policy
from mesh_platform.specs.contract import load_contract

window = load_contract({window!r}).sla()
deadline = load_contract({deadline!r}).sla()
defs = dg.Definitions(assets=[
    dg.AssetSpec(["d", "window"], freshness_policy=freshness_policy(window)),
    dg.AssetSpec(["d", "deadline"], freshness_policy=freshness_policy(deadline)),
])
"""


def test_freshness_daemon_passes_warns_and_fails_by_the_contract(checkout_copy, dagster_home, tmp_path):
    window_contract = checkout_copy / CONTRACT
    deadline_dir = tmp_path / "deadline"
    shutil.copytree(CHECKOUT, deadline_dir / "checkout")
    deadline_contract = _set_sla(
        deadline_dir / "checkout",
        '  - property: timeOfAvailability\n    value: "06:00 Europe/Berlin"\n    valueExt: 3\n    unit: h\n',
    )
    defs_file = tmp_path / "defs.py"
    defs_file.write_text(DEFS.format(window=str(window_contract), deadline=str(deadline_contract)))
    window_key, deadline_key = dg.AssetKey(["d", "window"]), dg.AssetKey(["d", "deadline"])

    # 05:00 Berlin (03:00 UTC in summer): inside the 03:00-06:00 window before the deadline
    published = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)
    instance = dg.DagsterInstance.get()
    with freeze_time(published):
        for key in (window_key, deadline_key):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
    with workspace(instance, defs_file, "fresh", tmp_path) as context:

        def state_at(hours: float) -> tuple[FreshnessState, FreshnessState]:
            with freeze_time(published + timedelta(hours=hours)):
                evaluate_freshness(context)
            return tuple(freshness_changes(instance, k)[-1].new_state for k in (window_key, deadline_key))

        assert state_at(1) == (FreshnessState.PASS, FreshnessState.PASS)
        assert state_at(20.5)[0] == FreshnessState.WARN  # window: warn after 20h
        assert state_at(24.5) == (FreshnessState.FAIL, FreshnessState.PASS)  # 24h passed; 06:00 not yet
        assert state_at(25.5)[1] == FreshnessState.FAIL  # 06:00 Berlin passed with no update since 03:00
    # one event per change, not per evaluation
    assert [c.new_state for c in freshness_changes(instance, window_key)] == [
        FreshnessState.PASS,
        FreshnessState.WARN,
        FreshnessState.FAIL,
    ]
    assert [c.new_state for c in freshness_changes(instance, deadline_key)] == [
        FreshnessState.PASS,
        FreshnessState.FAIL,
    ]
