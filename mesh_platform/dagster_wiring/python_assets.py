"""Turn a domain's Python tables (domains/<domain>/assets.py) into Dagster assets."""

from __future__ import annotations

import dagster as dg

import traceback

from mesh_platform import settings
from mesh_platform.contracts.check_specs import compile_contract
from mesh_platform.contracts.runner import masked_columns
from mesh_platform.publishing.staged_append import AuditFailed
from mesh_platform.redaction import RedactingLog, redact, redact_value
from mesh_platform.dagster_wiring.automation import product_automation_condition
from mesh_platform.importing import import_file
from mesh_platform.dagster_wiring.input_ports import port_key, published_file
from mesh_platform.python_tables import InputNotPublished, ProductContext, ProductTable
from mesh_platform.runtime.domain_lock import domain_writer
from mesh_platform.specs.errors import SpecError, SpecProblem
from mesh_platform.specs.loader import Domain

ASSETS_FILE = "assets.py"


def load_product_tables(domain: Domain) -> list[ProductTable]:
    """Every ProductTable defined at the top level of domains/<domain>/assets.py (if it exists)."""
    file = domain.dir / ASSETS_FILE
    if not file.exists():
        return []
    module = import_file(file, f"mesh_domain_{domain.name}_assets")
    return [value for value in vars(module).values() if isinstance(value, ProductTable)]


def build_python_assets(domain: Domain, tables: list[ProductTable]) -> list[dg.AssetsDefinition]:
    problems: list[SpecProblem] = []
    assets = []
    file = domain.dir / ASSETS_FILE
    products = {p.name: p for p in domain.products}
    for table in tables:
        product = products.get(table.product)
        if product is None:
            problems.append(SpecProblem(file, _line_of(table), table.table,
                                        f"product {table.product!r} is not a product of domain {domain.name!r} "
                                        f"(products: {', '.join(products)})"))
            continue
        ports = {p.name: p for p in product.spec.inputPorts}
        missing = [name for name in table.inputs if name not in ports]
        if missing:
            problems.append(SpecProblem(file, _line_of(table), table.table,
                                        f"inputs {missing} are not input ports of {domain.name}.{product.name} "
                                        f"(inputPorts in {product.file}: {', '.join(ports) or 'none'})"))
            continue
        audit_port = None
        if table.audited_by:
            audit_port = next((p for p in domain.ports() if p.product.name == product.name
                               and p.name == table.audited_by), None)
            if audit_port is None:
                problems.append(SpecProblem(file, _line_of(table), table.table,
                                            f"audited_by {table.audited_by!r} is not an output port of "
                                            f"{domain.name}.{product.name}"))
                continue
        assets.append(_asset(domain, product, table, {name: ports[name].source for name in table.inputs},
                             audit_port))
    if problems:
        raise SpecError(problems)
    return assets


def _asset(domain: Domain, product, table: ProductTable, inputs: dict[str, str], audit_port=None) -> dg.AssetsDefinition:
    key = dg.AssetKey([domain.name, product.name, table.table])
    audit_specs = compile_contract(audit_port.contract, audit_port.model) if audit_port else []
    masked = masked_columns(audit_port.schema) if audit_port else set()

    @dg.asset(
        key=key,
        deps=[port_key(address) for address in inputs.values()],
        group_name=domain.name,
        owners=list(product.team.owners),
        tags={"domain": domain.name, "product": product.name, "layer": "python", "visibility": "internal"},
        kinds=set(table.kinds),
        description=table.description,
        metadata={"mesh/python_table": f"{domain.dir / ASSETS_FILE}:{_line_of(table) or ''}",
                  **{f"mesh/input/{name}": address for name, address in inputs.items()}},
        # Same pool as the domain's dbt models: one writer per domain DuckDB file.
        pool=f"mesh_domain_{domain.name}",
        # Same trigger as the product's dbt models (cron products: None, the schedule runs it).
        automation_condition=product_automation_condition(domain, product.name),
    )
    def _build(context) -> dg.MaterializeResult:  # (no annotation: this module uses postponed annotations)
        settings.warehouse_path(domain.name).parent.mkdir(parents=True, exist_ok=True)
        log = RedactingLog(context.log)  # domain code logs URLs and errors; secrets never land
        ctx = ProductContext(
            domain=domain.name, product=product.name, table=table.table, run_id=context.run.run_id,
            log=log, warehouse_path=settings.warehouse_path(domain.name),
            input_files={name: (address, published_file(address)) for name, address in inputs.items()},
            audit_specs=audit_specs, masked=masked,
        )
        try:
            with domain_writer(domain.name, context.run.run_id, log=log.warning):
                metadata = table.fn(ctx) or {}
        except (InputNotPublished, AuditFailed) as exc:  # expected failures: no traceback
            raise dg.Failure(description=redact(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - the domain's error, without secrets it may quote
            log.error(traceback.format_exc())
            raise dg.Failure(description=redact(f"{type(exc).__name__}: {exc}")) from None
        return dg.MaterializeResult(metadata=redact_value(metadata))

    return _build


def _line_of(table: ProductTable) -> int | None:
    code = getattr(table.fn, "__code__", None)
    return code.co_firstlineno if code else None
