"""`mesh contract test <contract.yaml>`: the contract's checks, outside Dagster.

The same compiled checks the Dagster asset checks run, against the port's built relation
in the domain's DuckDB file (server `dev`), or with `--published` against the snapshot
consumers read. Exit status: 0 when every error-severity check passed (warnings may have
failed), 1 when one did not, 2 when the contract or the relation cannot be read.
"""

from __future__ import annotations

import io
import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import ibis
from rich.console import Console
from rich.table import Table

from mesh_platform import settings
from mesh_platform.contracts.compiler import compile_contract
from mesh_platform.contracts.explain import masked_columns
from mesh_platform.contracts.measure import duckdb_config
from mesh_platform.contracts.model import Status
from mesh_platform.contracts.runner import run_checks
from mesh_platform.mesh.address import PortAddress
from mesh_platform.mesh.domain import load_domain
from mesh_platform.publishing.target import DuckDBTarget
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError


@dataclass
class Target:
    contract: Any  # specs.contract.Contract
    domain: str
    product: str | None
    port: str | None
    tables: list[str]  # schema objects to check (physical names)


@click.group()
def contract() -> None:
    """Work with ODCS data contracts."""


@contract.command("test")
@click.argument("contract_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--server", default="dev", show_default=True, help="The contract's server to check (DuckDB only here).")
@click.option(
    "--published", is_flag=True, help="Check the published snapshot (current.parquet) instead of the built relation."
)
@click.option("--format", "format_", type=click.Choice(["table", "json", "junit"]), default="table", show_default=True)
def test(contract_file: Path, server: str, published: bool, format_: str) -> None:
    """Run the contract's checks and print one line per check."""
    try:
        target = _target(contract_file.resolve())
        con, relations = _connect(target, server, published)
    except (SpecError, LookupError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    results = []
    try:
        for table_name in target.tables:
            specs = compile_contract(target.contract, table_name)
            obj = target.contract.schema_object(table_name)
            results.append((table_name, run_checks(specs, relations[table_name], masked_columns(obj))))
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        con.disconnect()
    where = "published snapshot" if published else f"server {server}"
    click.echo({"table": _table, "json": _json, "junit": _junit}[format_](target, where, results))
    failed = any(o.blocks for _, outcomes in results for o in outcomes)
    sys.exit(1 if failed else 0)


def _target(file: Path) -> Target:
    """The port this contract belongs to: from the domain folder it lives in, or its own fields."""
    parts = file.parts
    if "products" in parts and "contracts" in parts:
        domain_dir = Path(*parts[: parts.index("products")])
        if (domain_dir / settings.DOMAIN_FILE).exists():
            domain = load_domain(domain_dir)
            for port in domain.ports():
                if port.contract.file.resolve() == file:
                    obj = port.schema
                    return Target(
                        port.contract, domain.name, port.product.name, port.name, [obj.physicalName or obj.name]
                    )
    loaded = load_contract(file)
    if not loaded.model.domain:
        raise LookupError(f"{file}: no output port uses this contract and it names no `domain`")
    return Target(
        loaded,
        loaded.model.domain,
        loaded.model.dataProduct,
        None,
        [o.physicalName or o.name for o in loaded.model.schema_ or []],
    )


def _connect(target: Target, server_name: str, published: bool):
    if published:
        if target.product is None or target.port is None:
            raise LookupError(f"{target.contract.file}: no output port uses this contract, so nothing is published")
        address = PortAddress(target.domain, target.product, target.port)
        duckdb_target = DuckDBTarget()
        path = duckdb_target.live_location(address)  # one file, or a partitioned port's glob
        if path is None:
            raise LookupError(f"{duckdb_target.live_path(address)} does not exist: the port has not been published")
        con = ibis.duckdb.connect(**duckdb_config())
        table = target.tables[0]
        return con, {table: con.read_parquet(path, table_name=table)}
    server = next((s for s in target.contract.model.servers or [] if s.server == server_name), None)
    if server is None and server_name != "dev":
        raise LookupError(
            f"{target.contract.file}: no server named {server_name!r} "
            f"(servers: {[s.server for s in target.contract.model.servers or []]})"
        )
    kind = (server.type if server else "duckdb") or "duckdb"
    if kind != "duckdb":
        raise LookupError(
            f"server {server_name!r} is {kind}: only DuckDB servers can be reached from here "
            "(BigQuery SQL is compiled and tested offline only)"
        )
    path = settings.warehouse_path(target.domain)
    if not path.exists():
        raise LookupError(f"{path} does not exist: build the domain first (mesh materialize --domain {target.domain})")
    con = ibis.duckdb.connect(str(path), read_only=True, **duckdb_config())
    schema = (server.schema_ if server else None) or "main"
    relations = {}
    for table in target.tables:
        try:
            relations[table] = con.table(table, database=schema)
        except Exception as exc:  # noqa: BLE001 - name the relation that is missing
            con.disconnect()
            raise LookupError(f"{path}: no relation {schema}.{table} ({type(exc).__name__})") from None
    return con, relations


def _row(outcome) -> dict[str, Any]:
    spec = outcome.spec
    return {
        "key": spec.key,
        "rule": spec.rule,
        "columns": list(spec.columns),
        "dimension": spec.dimension,
        "severity": spec.severity,
        "status": outcome.status.value,
        "passed": outcome.passed,
        "threshold": spec.threshold.describe() if spec.threshold else None,
        "measured": outcome.metric,
        "failing_count": outcome.failing_count,
        "failing_ratio": outcome.failing_ratio,
        "total_rows": outcome.total_rows,
        "message": outcome.message,
        "sample": outcome.sample,
    }


def _table(target: Target, where: str, results) -> str:
    console = Console(
        width=200, record=True, file=io.StringIO(), force_terminal=False, markup=False, emoji=False, highlight=False
    )  # check messages quote data: never markup
    for table_name, outcomes in results:
        table = Table(title=f"{target.contract.id} · {table_name} · {where}")
        for column in ("check", "severity", "dimension", "status", "failing", "detail"):
            table.add_column(column, overflow="fold")
        for o in outcomes:
            failing = "" if o.failing_count is None else f"{o.failing_count} ({o.failing_ratio:.2%})"
            table.add_row(
                o.spec.key, o.spec.severity, o.spec.dimension, o.status.value, failing, "" if o.passed else o.message
            )
        console.print(table)
        counts = {s: sum(o.status is s for o in outcomes) for s in Status}
        console.print(
            f"{len(outcomes)} checks: {counts[Status.PASSED]} passed, {counts[Status.FAILED]} failed, "
            f"{counts[Status.WARN]} warnings"
        )
    return console.export_text().rstrip()


def _json(target: Target, where: str, results) -> str:
    return json.dumps(
        {
            "contract": target.contract.id,
            "where": where,
            "tables": {name: [_row(o) for o in outcomes] for name, outcomes in results},
        },
        indent=2,
        default=str,
    )


def _junit(target: Target, where: str, results) -> str:
    """JUnit XML: an error-severity failure is a <failure>; a failed warning passes with its
    message in <system-out>, matching the exit status."""
    suites = ET.Element("testsuites", name=f"contract {target.contract.id}")
    for table_name, outcomes in results:
        failures = sum(o.blocks for o in outcomes)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{target.contract.id}.{table_name}",
            tests=str(len(outcomes)),
            failures=str(failures),
            errors="0",
        )
        for o in outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"{target.contract.id}.{table_name}", name=o.spec.key)
            props = ET.SubElement(case, "properties")
            for name in ("rule", "severity", "dimension"):
                ET.SubElement(props, "property", name=name, value=str(getattr(o.spec, name)))
            if o.passed:
                continue
            if o.blocks:
                failure = ET.SubElement(case, "failure", message=o.message[:500], type=o.spec.rule)
                failure.text = json.dumps(_row(o), default=str, indent=1)
            else:
                ET.SubElement(case, "system-out").text = f"WARN {o.message}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
