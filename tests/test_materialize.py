"""End to end: generate, materialise through Dagster, audit, publish; and refuse to publish bad data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sample_days import day

from mesh_platform import settings
from mesh_platform.cli.main import cli

PORT_KEY = dg.AssetKey(["checkout", "web_orders_with_consent", "web_orders_with_consent"])
PK_CHECK = "web_orders_with_consent__order_line_id__primary_key"
DUP_CHECK = "web_orders_with_consent__order_number_line_number__duplicate_values"


def consented_lines_sql(landing: Path) -> int:
    """The consent rule, written independently of the dbt models, over the raw landing files."""
    return duckdb.sql(f"""
        with sales as (
            select *, ws_sold_date::timestamp + to_seconds(ws_sold_time::bigint) as sold_at
            from read_parquet('{landing}/web_sales.parquet')
        )
        select count(*) from sales s
        where exists (
            select 1 from read_parquet('{landing}/customer_consents.parquet') c
            where c.customer_sk = s.ws_bill_customer_sk and c.purpose = 'analytics'
              and c.granted_at <= s.sold_at and (c.revoked_at is null or c.revoked_at > s.sold_at))
    """).fetchall()[0][0]


def run_mesh(*args: str):
    return CliRunner().invoke(cli, ["materialize", *args], catch_exceptions=False)


def port_dir() -> Path:
    return settings.published_dir("checkout", "web_orders_with_consent", "web_orders_with_consent")


def live_rows() -> pa.Table:
    """The live version of checkout's (daily-partitioned) port, as consumers read it."""
    from mesh_platform.published_layout import live_location

    return duckdb.sql(
        f"select * from read_parquet('{live_location(port_dir())}') order by order_line_id"
    ).to_arrow_table()


def live_version() -> Path:
    """The version directory `current` points at (a new publish swaps it)."""
    from mesh_platform.published_layout import current_dir

    return current_dir(port_dir()).resolve()


def test_materialize_publishes_consented_lines(mesh_copy):
    """The session's first `mesh materialize` published every day of consented lines; a second
    run without --partition brings the product up to date: only the newest day is rebuilt."""
    landing = mesh_copy / "landing" / "checkout"
    expected = consented_lines_sql(landing)
    published = live_rows()
    assert published.num_rows == expected
    total = pq.read_metadata(landing / "web_sales.parquet").num_rows
    assert 0.6 * total < expected < 0.9 * total  # the filter did something, and not everything

    result = run_mesh("--domain", "checkout", "--product", "web_orders_with_consent")
    assert result.exit_code == 0, result.output
    assert "materialized" in result.output and PK_CHECK in result.output
    instance = dg.DagsterInstance.get()
    event = instance.get_latest_materialization_event(PORT_KEY)
    assert event.asset_materialization.partition == day()  # the newest day, nothing missing
    meta = event.asset_materialization.metadata
    assert meta["dagster/row_count"].value == expected  # rows of the whole live port
    days = set(published["sold_date"].to_pylist())
    assert meta["partitions_published"].value == (dt.date(2025, 12, 31) in days)  # a day without orders: none
    assert meta["partitions_live"].value == len(days) > 500  # days with orders (scale 0.01)
    assert meta["published_path"].value == str(port_dir() / "current")
    assert live_rows().equals(published)


def _inject(landing: Path, mutate) -> None:
    path = landing / "web_sales.parquet"
    table = pq.read_table(path)
    pq.write_table(mutate(table), path)


def _consented_row_index(landing: Path) -> tuple[int, str]:
    """Row number (in web_sales) of a line that passes the consent filter, and its day."""
    published = live_rows().slice(0, 1).to_pylist()[0]
    order_number = int(published["order_number"].split("-")[1])
    line_number = published["line_number"]
    sales = pq.read_table(landing / "web_sales.parquet", columns=["ws_order_number", "ws_line_number"])
    for i, (o, ln) in enumerate(zip(sales["ws_order_number"].to_pylist(), sales["ws_line_number"].to_pylist())):
        if o == order_number and ln == line_number:
            return i, str(published["sold_date"])
    raise AssertionError("published line not found in landing data")


def _duplicate_line(table: pa.Table, index: int) -> pa.Table:
    return pa.concat_tables([table, table.slice(index, 1)])


def _null_line_number(table: pa.Table, index: int) -> pa.Table:
    column = table["ws_line_number"].to_pylist()
    column[index] = None
    i = table.schema.get_field_index("ws_line_number")
    return table.set_column(i, table.schema.field(i), pa.array(column, type=pa.int32()))


@pytest.mark.parametrize(
    "violation, failing_check",
    [
        (_duplicate_line, PK_CHECK),
        (_null_line_number, "web_orders_with_consent__order_line_id__not_null"),
    ],
    ids=["duplicate order line", "null key"],
)
def test_violation_blocks_publishing(mesh_copy, violation, failing_check):
    """A bad line in one day's orders: the run of that day fails its checks, publishes nothing."""
    landing = mesh_copy / "landing" / "checkout"
    before, version = live_rows(), live_version()
    versions_before = sorted(port_dir().joinpath("versions").iterdir())
    materializations_before = dg.DagsterInstance.get().get_latest_materialization_event(PORT_KEY)

    index, day = _consented_row_index(landing)
    _inject(landing, lambda t: violation(t, index))
    result = run_mesh("--domain", "checkout", "--partition", day)

    assert result.exit_code == 1, result.output
    assert failing_check in result.output and "failed" in result.output
    assert "not published" in result.output
    # The live version is the one it was, row for row, and no new version appeared.
    assert live_version() == version and live_rows().equals(before)
    assert sorted(port_dir().joinpath("versions").iterdir()) == versions_before

    instance = dg.DagsterInstance.get()
    # The port's last materialisation is still the good one: a failed audit records none.
    assert instance.get_latest_materialization_event(PORT_KEY).run_id == materializations_before.run_id
    runs = instance.get_runs(limit=1)
    assert runs[0].status == dg.DagsterRunStatus.FAILURE
    evaluation = _check_evaluation(instance, runs[0].run_id, failing_check)
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failing_count"].value >= 1
    sample = evaluation.metadata["failing_sample"].value
    assert 1 <= len(sample) <= 10
    assert all(row["billing_customer_id"] == "***" for row in sample)  # PII masked


def _check_evaluation(instance: dg.DagsterInstance, run_id: str, check_name: str):
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.check_name == check_name:
            return evaluation
    raise AssertionError(f"no evaluation of {check_name} in run {run_id}")


def test_unknown_product_is_a_clear_error(mesh_data, dagster_home):
    result = run_mesh("--domain", "checkout", "--product", "nope")
    assert result.exit_code == 2
    assert "no product matches" in result.output


def test_checks_alone_audit_without_publishing(mesh_copy):
    """Executing the contract checks on their own (the UI's "Execute") audits, never publishes."""
    from mesh_platform.cli.workspace import load_definitions

    before, version = live_rows(), live_version()
    defs = load_definitions(settings.repo_root() / "domains" / "checkout")
    result = dg.materialize(  # a partitioned port's checks run on a partition: the UI's run tag
        assets=list(defs.assets),
        resources=dict(defs.resources),
        tags={"dagster/partition": day(1)},
        selection=dg.AssetSelection.checks_for_assets(PORT_KEY),
        instance=dg.DagsterInstance.get(),
        raise_on_error=False,
    )
    assert result.success
    evaluated = {e.check_name for e in result.get_asset_check_evaluations() if e.asset_key == PORT_KEY}
    assert PK_CHECK in evaluated and DUP_CHECK in evaluated
    assert not result.get_asset_materialization_events()
    assert live_version() == version and live_rows().equals(before)
