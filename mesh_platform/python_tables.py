"""Tables a domain builds in Python, where SQL cannot do it (e.g. calling an external API).

A domain puts them in ``domains/<domain>/assets.py``; the platform finds them, keys them
``[domain, product, table]``, gives them the product's owners, group, tags and schedule,
and wires lineage to the input ports they read. No Dagster code in the domain:

    from mesh_platform.python_tables import ProductContext, product_table

    @product_table(product="scores", table="score_history", inputs=["entities"])
    def score_history(ctx: ProductContext) -> dict:
        entities = ctx.read_input("entities")  # the producer's published version (pyarrow)
        n = ctx.append_audited(rows, schema="scores", table="score_history", primary_key=["day", "id"],
                               replace_on=["day"])     # written where the run's target says
        return {"rows_appended": n}                  # shown as the materialisation's metadata

A table that feeds an output port names it (`audited_by="<port>"`) and writes through
``ctx.append_audited(rows, ...)``: the rows are staged, audited against that port's contract
and only then appended in one transaction (mesh_platform/publishing/staged_append.py on
DuckDB, bigquery_append.py on BigQuery: one MERGE).

The function's dbt consumers declare the table as a source with ``meta: {mesh_product: <product>}``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_platform.importing import import_file
from mesh_platform.settings import ASSETS_FILE
from mesh_platform.specs.errors import SpecError


class InputNotPublished(RuntimeError):
    """An input port's producer has not published a snapshot yet."""


@dataclass(frozen=True)
class ProductTable:
    product: str
    table: str
    fn: Callable[[ProductContext], dict[str, Any] | None]
    inputs: tuple[str, ...] = ()
    description: str | None = None
    audited_by: str | None = None  # the output port (of the same product) whose contract audits new rows
    kinds: frozenset[str] = field(default_factory=lambda: frozenset({"python"}))  # + the target's storage


def product_table(
    *,
    product: str,
    table: str,
    inputs: list[str] | tuple[str, ...] = (),
    description: str | None = None,
    audited_by: str | None = None,
):
    """Declare that `fn(ctx)` builds `table` of `product` (reading the named input ports);
    `audited_by` names the output port whose contract its new rows must meet."""

    def wrap(fn):
        return ProductTable(
            product=product,
            table=table,
            fn=fn,
            inputs=tuple(inputs),
            description=description or (fn.__doc__ or "").strip() or None,
            audited_by=audited_by,
        )

    return wrap


@dataclass
class ProductContext:
    """What a domain's Python gets: its inputs, a way to write audited rows, a logger and the run id.

    Reading and writing go through the run's target (mesh_platform/publishing/target.py): DuckDB
    and Parquet snapshots in dev, BigQuery under MESH_TARGET=prod; the domain's code is the same."""

    domain: str
    product: str
    table: str
    run_id: str
    log: Any
    inputs: dict[str, Any]  # input port name -> the producer port's PortAddress
    target: Any  # publishing.target.Target
    audit_specs: list = field(default_factory=list)  # the audited_by port's check specs
    masked: set = field(default_factory=set)

    def append_audited(
        self,
        rows,
        *,
        schema: str,
        table: str,
        primary_key: tuple[str, ...] | list[str] = (),
        replace_on: tuple[str, ...] | list[str] = (),
    ) -> int:
        """Write-audit-publish `rows` (pyarrow) into `<schema>.<table>` of the domain's storage (its
        DuckDB file, or dataset `<schema>` on BigQuery): staged, audited against the audited_by
        port's contract, then the target's rows sharing the new rows' `replace_on` values are
        replaced in one transaction. The table is created from the rows' Arrow schema
        (non-nullable fields NOT NULL, `primary_key` declared) plus `loaded_at` and `run_id`.
        Raises AuditFailed (nothing written) when the rows break the contract."""
        appended = self.target.append_audited(
            rows,
            domain=self.domain,
            schema=schema,
            table=table,
            run_id=self.run_id,
            primary_key=tuple(primary_key),
            replace_on=tuple(replace_on),
            specs=self.audit_specs,
            masked=self.masked,
            label=f"{self.domain}.{self.product}.{self.table}",
        )
        return appended.rows

    def _published_input(self, name: str):
        if name not in self.inputs:
            raise KeyError(
                f"{self.domain}.{self.product}.{self.table} declares no input {name!r} "
                f"(declared: {', '.join(self.inputs) or 'none'})"
            )
        address = self.inputs[name]
        if not self.target.is_published(address):
            raise InputNotPublished(
                f"input port {address} is not published yet ({self.target.location(address)} does not "
                f"exist); materialise {address.product_address} first, then re-run {self.domain}.{self.product}"
            )
        return address

    def read_input(self, name: str, columns: list[str] | None = None):
        """The input port's published version as a pyarrow Table (its live Parquet snapshot, or
        its published view on BigQuery), read once."""
        return self.target.read_published(self._published_input(name), columns=columns)


def load_product_tables(domain_dir: Path) -> list[ProductTable]:
    """Every ProductTable defined at the top level of ``<domain_dir>/assets.py`` (if it exists).

    A file that does not import is a problem in that file (SpecError with its line), not a
    traceback: the code location and `mesh validate` report it the same way."""
    file = Path(domain_dir) / ASSETS_FILE
    if not file.exists():
        return []
    try:
        module = import_file(file, f"mesh_domain_{Path(domain_dir).name}_assets")
    except Exception as exc:  # noqa: BLE001 - domain code may raise anything; report where
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == file]
        line = frames[-1].lineno if frames else getattr(exc, "lineno", None)
        raise SpecError.single(
            file, line, "", f"does not import: {type(exc).__name__}: {exc}", rule="mesh.python_import"
        ) from None
    return [value for value in vars(module).values() if isinstance(value, ProductTable)]


def line_of(table: ProductTable) -> int | None:
    """The line of the function that builds the table (for file:line messages)."""
    code = getattr(table.fn, "__code__", None)
    return code.co_firstlineno if code else None
