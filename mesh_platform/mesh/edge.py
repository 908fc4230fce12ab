"""Edge: a consumer reading, or declaring that it reads, a producer's output port.

One type for every link between a consumer and a producer port, with the file and line where
the link is written, so every port knows its consumers and every later check can report
``file:line``:

- ``dbt_source``: a dbt model reading a port with mesh_input() (the generated source it resolves to);
- ``dbt_ref``: another product's port of the same domain read through ref() (from the
  manifest's lineage, as Dagster draws it);
- ``python``: a Python table reading one of its product's input ports;
- ``input_port``: a product's descriptor declaring an input port (what the lifecycle and
  agreement rules judge, whether or not anything reads it yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.specs.errors import DEFAULT_RULE, Problem

if TYPE_CHECKING:
    from mesh_platform.mesh.domain import Product

EdgeKind = Literal["dbt_source", "dbt_ref", "python", "input_port"]
READ_KINDS: tuple[EdgeKind, ...] = ("dbt_source", "dbt_ref", "python")


@dataclass(frozen=True)
class Edge:
    """A consumer and the producer port it reads.

    ``written`` is the address exactly as the consumer wrote it; ``producer`` is its parsed
    form (None when it does not parse). ``consumer_product``/``input_port`` name the consumer's
    descriptor entry (None for a dbt source no product declares); ``consumer`` is that product.
    ``file``/``line``/``field`` point at where the link is written (the dbt source, or the
    descriptor's input port).
    """

    kind: EdgeKind
    written: str
    producer: PortAddress | None
    consumer_domain: str
    consumer_product: str | None
    input_port: str | None
    reader: str  # "source <source>.<table>", "ref <model>", "python <table>" or "input port <name>"
    file: Path
    line: int | None
    field: str
    consumer: Product | None = field(default=None, compare=False, repr=False)

    @property
    def relation(self) -> tuple[str, ...] | None:
        """What the consumer's SQL reads: ("source", source, table) or ("ref", model); None otherwise."""
        if self.kind == "dbt_source":
            return ("source", *self.reader.removeprefix("source ").split(".", 1))
        if self.kind == "dbt_ref":
            return ("ref", self.reader.removeprefix("ref "))
        return None

    @property
    def consumer_address(self) -> ProductAddress | None:
        """The consuming product (None for a dbt source no product declares)."""
        return ProductAddress(self.consumer_domain, self.consumer_product) if self.consumer_product else None

    @property
    def crosses_domains(self) -> bool:
        return self.producer is not None and self.producer.domain != self.consumer_domain

    def problem(self, message: str, rule: str = DEFAULT_RULE) -> Problem:
        return Problem(self.file, self.line, self.field, message, rule)

    def describe(self) -> str:
        return f"{self.consumer_address} (input port {self.input_port!r}, {self.file}:{self.line})"
