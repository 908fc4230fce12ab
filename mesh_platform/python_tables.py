"""Tables a domain builds in Python, where SQL cannot do it (e.g. calling an external API).

A domain puts them in ``domains/<domain>/assets.py``; the platform finds them, keys them
``[domain, product, table]``, gives them the product's owners, group, tags and schedule,
and wires lineage to the input ports they read. No Dagster code in the domain:

    from mesh_platform.python_tables import ProductContext, product_table

    @product_table(product="scores", table="score_history", inputs=["entities"])
    def score_history(ctx: ProductContext) -> dict:
        entities = ctx.read_input("entities")  # the producer's published snapshot (pyarrow)
        ...                                          # write into ctx.warehouse_path (the domain's DuckDB)
        return {"rows_appended": n}                  # shown as the materialisation's metadata

A table that feeds an output port names it (`audited_by="<port>"`) and writes through
``ctx.append_audited(rows, ...)``: the rows are staged, audited against that port's contract
and only then appended in one transaction (mesh_platform/publishing/staged_append.py).

The function's dbt consumers declare the table as a source with ``meta: {mesh_product: <product>}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


class InputNotPublished(RuntimeError):
    """An input port's producer has not published a snapshot yet."""


@dataclass(frozen=True)
class ProductTable:
    product: str
    table: str
    fn: Callable[["ProductContext"], dict[str, Any] | None]
    inputs: tuple[str, ...] = ()
    description: str | None = None
    audited_by: str | None = None  # the output port (of the same product) whose contract audits new rows
    kinds: frozenset[str] = field(default_factory=lambda: frozenset({"python", "duckdb"}))


def product_table(*, product: str, table: str, inputs: list[str] | tuple[str, ...] = (),
                  description: str | None = None, audited_by: str | None = None):
    """Declare that `fn(ctx)` builds `table` of `product` (reading the named input ports);
    `audited_by` names the output port whose contract its new rows must meet."""

    def wrap(fn):
        return ProductTable(product=product, table=table, fn=fn, inputs=tuple(inputs),
                            description=description or (fn.__doc__ or "").strip() or None,
                            audited_by=audited_by)

    return wrap


@dataclass
class ProductContext:
    """What a domain's Python gets: its inputs, its warehouse, a logger and the run id."""

    domain: str
    product: str
    table: str
    run_id: str
    log: Any
    warehouse_path: Path
    input_files: dict[str, tuple[str, Path]]  # input port name -> (address, published file)
    audit_specs: list = field(default_factory=list)  # the audited_by port's check specs
    masked: set = field(default_factory=set)

    def append_audited(self, rows, *, schema: str, table: str, create_sql: str,
                       replace_on: tuple[str, ...] | list[str] = (), extra_columns: dict | None = None) -> int:
        """Write-audit-publish `rows` (pyarrow) into `<schema>.<table>` of the domain's DuckDB;
        raises AuditFailed (nothing written) when they break the audited_by port's contract."""
        from mesh_platform.publishing.staged_append import staged_append

        appended = staged_append(self.warehouse_path, rows, schema=schema, table=table, create_sql=create_sql,
                                 replace_on=tuple(replace_on), extra_columns=extra_columns,
                                 specs=self.audit_specs, masked=self.masked,
                                 label=f"{self.domain}.{self.product}.{self.table}")
        return appended.rows

    def input_path(self, name: str) -> Path:
        """The published snapshot of an input port; a clear error if it is not published yet."""
        if name not in self.input_files:
            raise KeyError(f"{self.domain}.{self.product}.{self.table} declares no input {name!r} "
                           f"(declared: {', '.join(self.input_files) or 'none'})")
        address, path = self.input_files[name]
        if not path.exists():
            raise InputNotPublished(
                f"input port {address} is not published yet ({path} does not exist); materialise "
                f"{address.rsplit('.', 1)[0]} first, then re-run {self.domain}.{self.product}")
        return path

    def read_input(self, name: str, columns: list[str] | None = None):
        """The input port's live snapshot as a pyarrow Table (read once; the file may be swapped later)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.input_path(name), columns=columns)


ASSETS_FILE = "assets.py"


def load_product_tables(domain_dir: Path) -> list[ProductTable]:
    """Every ProductTable defined at the top level of ``<domain_dir>/assets.py`` (if it exists).

    A file that does not import is a problem in that file (SpecError with its line), not a
    traceback: the code location and `mesh validate` report it the same way."""
    import traceback

    from mesh_platform.importing import import_file
    from mesh_platform.specs.errors import SpecError

    file = Path(domain_dir) / ASSETS_FILE
    if not file.exists():
        return []
    try:
        module = import_file(file, f"mesh_domain_{Path(domain_dir).name}_assets")
    except Exception as exc:  # noqa: BLE001 - domain code may raise anything; report where
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == file]
        line = frames[-1].lineno if frames else getattr(exc, "lineno", None)
        raise SpecError.single(file, line, "", f"does not import: {type(exc).__name__}: {exc}") from None
    return [value for value in vars(module).values() if isinstance(value, ProductTable)]


def line_of(table: ProductTable) -> int | None:
    """The line of the function that builds the table (for file:line messages)."""
    code = getattr(table.fn, "__code__", None)
    return code.co_firstlineno if code else None
