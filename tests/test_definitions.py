"""The catalog a domain gets from its YAML: keys, owners, group, metadata, freshness, schedule."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).parent / "snapshots" / "checkout_asset_specs.json"
PORT_KEY = dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent"])


@pytest.fixture(scope="module")
def checkout(locations) -> dg.Definitions:
    return locations["checkout"]


def _specs(defs: dg.Definitions) -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for assets in defs.assets for spec in assets.specs}


def test_workspace_has_one_location_per_domain(locations):
    domains = sorted(p.parent.name for p in (ROOT / "domains").glob("*/domain.yaml"))
    assert sorted(locations) == domains


def test_keys_are_domain_product_table(checkout):
    keys = set(_specs(checkout))
    assert PORT_KEY in keys
    for internal in (
        "stg_checkout__web_sales",
        "stg_checkout__customer_consents",
        "int_order_lines",
        "int_analytical_consents",
    ):
        assert dg.AssetKey(["checkout", "web_orders_with_consent", internal]) in keys
    deps = {
        dep.asset_key
        for dep in _specs(checkout)[
            dg.AssetKey(["checkout", "web_orders_with_consent", "stg_checkout__web_sales"])
        ].deps
    }
    assert deps == {dg.AssetKey(["checkout", "landing", "web_sales"])}


def test_output_port_owner_group_tags_kinds(checkout):
    spec = _specs(checkout)[PORT_KEY]
    assert spec.group_name == "checkout"
    assert spec.owners == ["team:checkout", "checkout-data@example.com"]
    assert spec.tags["domain"] == "checkout"
    assert spec.tags["product"] == "web_orders_with_consent"
    assert spec.tags["visibility"] == "output_port"
    assert spec.tags["archetype"] == "source-aligned"
    assert spec.kinds == {"dbt", "duckdb", "parquet", "output_port"}  # output_port: one-click filter in the UI


def test_output_port_metadata_carries_contract_terms(checkout):
    meta = _specs(checkout)[PORT_KEY].metadata
    expected = {
        "contract/id": "web-orders-with-consent-v1",
        "contract/version": "1.0.0",
        "contract/owner": "Checkout Team",
        "contract/usage": "Analytics and data science; customers consented.",
        "contract/limitations": "Filtered to consented orders: not for financial KPIs; not real-time.",
        "contract/billing": "1000 USD per month",
        "contract/notice_period": "P3M",
        "sla/freshness": "24h",
        "sla/freshness_warn": "20h",
        "sla/frequency": "0 5 * * *",
        "product/archetype": "source-aligned",
        "product/maturity": "established",
        "product/quality_level": "gold",
        "product/tier": "1",
    }
    assert {k: meta[k] for k in expected} == expected
    columns = {c.name: c for c in meta["dagster/column_schema"].columns}
    assert columns["order_line_id"].constraints.nullable is False
    assert columns["order_line_id"].constraints.unique is True
    assert "primary key" in columns["order_line_id"].constraints.other
    assert columns["billing_customer_id"].tags == {"classification": "restricted"}
    assert columns["item_category"].constraints.nullable is True
    assert columns["line_amount"].type == "decimal(12,2)"


def test_freshness_policy_from_contract_sla(checkout):
    policy = _specs(checkout)[PORT_KEY].freshness_policy
    assert policy.fail_window.to_timedelta() == timedelta(hours=24)
    assert policy.warn_window.to_timedelta() == timedelta(hours=20)


def test_schedule_from_descriptor(checkout):
    schedule = checkout.get_schedule_def("checkout__web_orders_with_consent__schedule")
    assert schedule.cron_schedule == "0 5 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = checkout.resolve_job_def(schedule.job_name)
    selected = {
        key
        for key in job.asset_layer.asset_graph.get_all_asset_keys()
        if job.asset_layer.asset_graph.get(key).is_executable
    }
    assert PORT_KEY in selected
    assert dg.AssetKey(["checkout", "web_orders_with_consent", "stg_checkout__web_sales"]) in selected
    assert all(k.path[:2] == ["checkout", "web_orders_with_consent"] for k in selected)


def test_contract_checks_are_blocking_asset_checks(checkout):
    checks = {c.name: c for assets in checkout.assets for c in assets.check_specs if c.asset_key == PORT_KEY}
    for name in (
        "web_orders_with_consent__order_line_id__primary_key",
        "web_orders_with_consent__order_line_id__not_null",
        "web_orders_with_consent__table__row_count",
        "web_orders_with_consent__order_number_line_number__duplicate_values",
    ):
        assert checks[name].blocking, name
        assert checks[name].metadata["severity"] == "error"


def _shown(value) -> object:
    """A metadata value as the snapshot keeps it: plain values and paths as they are (paths are
    repo-relative, so the snapshot holds on any checkout), others by their type."""
    if isinstance(value, (str, int, float)):
        return value
    path = (
        os.fspath(value)
        if isinstance(value, os.PathLike)
        else value.path
        if isinstance(value, dg.PathMetadataValue)
        else None
    )
    if path is not None:
        return "path:" + re.sub(r":\d*$", "", path)  # without a line number, which edits move
    return type(value).__name__


# What Dagster can record for a metadata value (its RawMetadataValue): anything else is shown in
# the UI as "[<class>] (unserializable)".
SERIALISABLE = (
    str,
    int,
    float,
    bool,
    list,
    dict,
    os.PathLike,
    dg.AssetKey,
    dg.TableSchema,
    dg.TableColumnLineage,
    dg.MetadataValue,
    type(None),
)


def test_no_unserialisable_metadata_and_repo_relative_paths(locations):
    """Every asset and check of every location: metadata Dagster can record, and no absolute
    path of this machine (the UI showed `[DbtProject] (unserializable)` and the contract's
    absolute path)."""
    from pathlib import PurePath

    from mesh_platform import settings

    for name, defs in locations.items():
        for assets in defs.assets:
            entries = [(spec.key, spec.metadata) for spec in assets.specs] + [
                (check.key, check.metadata) for check in getattr(assets, "check_specs", [])
            ]
            for key, metadata in entries:
                for label, value in (metadata or {}).items():
                    assert isinstance(value, SERIALISABLE), (name, key, label, type(value))
                    path = (
                        os.fspath(value)
                        if isinstance(value, os.PathLike)
                        else value.path
                        if isinstance(value, dg.PathMetadataValue)
                        else None
                    )
                    if path is not None:
                        assert not PurePath(path).is_absolute(), (name, key, label, path)
                    text = value.value if isinstance(value, dg.TextMetadataValue) else value
                    if isinstance(text, str):
                        assert str(settings.repo_root()) not in text, (name, key, label, text)
    meta = _specs(locations["checkout"])[PORT_KEY].metadata
    assert (
        meta["contract/file"].path
        == "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
    )
    assert os.fspath(meta["dagster_dbt/project"]) == "dbt_projects/checkout"
    assert (
        meta["dagster_dbt/manifest"].manifest["metadata"]["project_name"] == "checkout"
    )  # still the manifest in-process
    # a landing table's location: the data dir as a placeholder, not the folder dbt parsed with
    landing = _specs(locations["checkout"])[dg.AssetKey(["checkout", "landing", "web_sales"])]
    assert landing.metadata["mesh/location"].value == "read_parquet('<MESH_DATA_DIR>/landing/checkout/{name}.parquet')"


def _snapshot_of(defs: dg.Definitions) -> list[dict]:
    rows = []
    for key, spec in sorted(_specs(defs).items(), key=lambda kv: kv[0].to_user_string()):
        meta = {k: _shown(v) for k, v in spec.metadata.items() if not k.startswith("dagster/relation")}
        policy = spec.freshness_policy
        rows.append(
            {
                "key": key.to_user_string(),
                "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
                "owners": list(spec.owners),
                "group": spec.group_name,
                "tags": dict(sorted(spec.tags.items())),
                "kinds": sorted(spec.kinds),
                "freshness": None
                if policy is None
                else [
                    str(policy.fail_window.to_timedelta()),
                    str(policy.warn_window.to_timedelta()) if policy.warn_window else None,
                ],
                "metadata": dict(sorted(meta.items())),
            }
        )
    return rows


def test_asset_specs_snapshot(checkout):
    """A refactor that changes the catalog shows up here; refresh with UPDATE_SNAPSHOTS=1."""
    current = _snapshot_of(checkout)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, default=str) + "\n")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run with UPDATE_SNAPSHOTS=1 and review it"
    assert current == json.loads(SNAPSHOT.read_text())


def test_landing_tables_are_external_assets_of_their_domain(checkout):
    key = dg.AssetKey(["checkout", "landing", "web_sales"])
    spec = _specs(checkout)[key]
    assert spec.group_name == "checkout"
    assert spec.owners == ["team:checkout", "checkout-data@example.com"]
    assert spec.kinds == {"parquet"} and spec.description
    assert spec.tags["layer"] == "landing" and spec.tags["visibility"] == "internal"
    assert not next(a for a in checkout.assets if key in a.keys).is_executable


def test_no_location_has_a_dangling_dependency(locations):
    """Every dependency is defined in the same location, or is another domain's output port."""
    for name, defs in locations.items():
        specs = _specs(defs)
        for spec in specs.values():
            for dep in spec.deps:
                key = dep.asset_key
                assert key in specs or key.path[0] != name, (name, spec.key, key)


def test_a_run_reuses_the_prepared_parse(mesh_data, monkeypatch):
    """dagster-dbt copies `partial_parse.msgpack` from `$DBT_TARGET_PATH` into each run's folder;
    it must find the one `mesh prepare` wrote, or every run parses the whole project again."""
    from mesh_platform import settings
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, reuse_parse

    project = dbt_project(Path(__file__).resolve().parent.parent / "dbt_projects" / "checkout", settings.target())
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    reuse_parse(project.project_dir, settings.target())
    folder = Path(os.environ["DBT_TARGET_PATH"])
    assert folder == Path(project.manifest_path).parent.resolve()
    assert (folder / "partial_parse.msgpack").exists()


def test_a_run_does_not_start_dbt_to_ask_its_version(mesh_data, monkeypatch):
    """dagster-dbt's per-run `dbt --version` (about 4 s) is answered from dbt-core's metadata
    when the executable is this interpreter's dbt; any other executable is still asked."""
    from importlib.metadata import version

    import dagster_dbt
    from dagster_dbt import DbtCliResource

    from mesh_platform import settings
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource

    assert "_cli_version" in vars(DbtCliResource)  # still dagster-dbt's name for it
    asked: list = []
    monkeypatch.setattr(
        dagster_dbt.core.resource,
        "check_output",
        lambda args, **kw: asked.append(args) or b"Core:\n  - installed: 9.9.9\n",
    )
    project = dbt_project(Path(__file__).resolve().parent.parent / "dbt_projects" / "checkout", settings.target())
    ours = dbt_resource(project)
    assert str(ours._cli_version) == version("dbt-core") and asked == []
    other = type(ours)(project_dir=str(project.project_dir), dbt_executable="/bin/true")  # not ours
    assert str(other._cli_version) == "9.9.9" and asked == [["/bin/true", "--version"]]


def test_a_run_does_not_load_dbt_in_process_for_an_adapter_it_never_uses():
    """dagster-dbt builds a dbt adapter in the run's process on every invocation (about 3.4 s
    of CPU) for row-count and column-metadata fetches the platform does not use: ours skips it."""
    from dagster_dbt import DbtCliResource

    from mesh_platform import settings
    from mesh_platform.dagster_wiring.dbt_project import dbt_project, dbt_resource

    assert "_initialize_dbt_core_adapter" in vars(DbtCliResource)  # still dagster-dbt's name for it
    project = dbt_project(Path(__file__).resolve().parent.parent / "dbt_projects" / "checkout", settings.target())
    assert dbt_resource(project)._initialize_dbt_core_adapter(["build"]) is None
