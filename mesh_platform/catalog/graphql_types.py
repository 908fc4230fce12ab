"""The GraphQL object types of the catalog, derived from its dataclasses (catalog/model.py).

Each type has its dataclass's fields, in their order and under their names, so the schema
cannot drift from the catalog the pages and the JSON show. What the API shows differently is
said here, once per type: a field hidden (a file path, a page link), a property exposed (a
derived verdict), a byte count widened to Float (GraphQL's Int has 32 bits), a description.
Resolvers return the catalog's own objects; Strawberry reads each field by name.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from typing import Any

import strawberry
from strawberry.scalars import JSON

from mesh_platform.catalog import model

_DERIVED: dict[type, type] = {}  # catalog dataclass -> its GraphQL type


def _graphql(hint: Any) -> Any:
    """The GraphQL annotation for a dataclass field's type: catalog dataclasses become their
    derived types, dicts and Any become JSON."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or origin is dict:
        return JSON
    if origin is list:
        return list[_graphql(args[0])]
    if origin in (types.UnionType, typing.Union):
        return typing.Union[tuple(_graphql(a) for a in args)]  # noqa: UP007 - built from a tuple
    return _DERIVED.get(hint, hint)


def derive(
    cls: type,
    *,
    hide: tuple[str, ...] = (),
    add: dict[str, tuple[Any, str]] | None = None,
    retype: dict[str, Any] | None = None,
    describe: dict[str, str] | None = None,
    description: str | None = None,
) -> type:
    """The GraphQL type of catalog dataclass ``cls``: its fields minus ``hide``; ``add`` exposes a
    property (name -> (type, the field it follows)); ``retype`` overrides a field's type;
    ``describe`` gives a field a description."""
    hints = typing.get_type_hints(cls)
    add, retype, describe = add or {}, retype or {}, describe or {}
    annotations: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in hide:
            annotations[f.name] = retype.get(f.name, _graphql(hints[f.name]))
        annotations.update({name: type_ for name, (type_, after) in add.items() if after == f.name})
    namespace = {name: strawberry.field(description=text) for name, text in describe.items()}
    derived = strawberry.type(
        type(cls.__name__, (), {"__annotations__": annotations, "__module__": __name__, **namespace}),
        description=description,
    )
    _DERIVED[cls] = derived
    return derived


Column = derive(
    model.Column,
    describe={
        "read_by": "Consumer products whose SQL reads this column.",
        "maybe_read_by": "Consumers whose reads cannot be seen (Python tables).",
    },
)
Terms = derive(model.Terms)
Sla = derive(model.Sla)
Freshness = derive(model.Freshness)
CheckResult = derive(model.CheckResult, add={"state": (str, "passed")})
DimensionQuality = derive(model.DimensionQuality)
PolicyResult = derive(model.PolicyResult)
PortLifecycle = derive(
    model.PortLifecycle,
    description="A port's lifecycle on the catalog's date: state, access mode, sunset, replacement.",
)
Port = derive(
    model.Port,
    hide=("contract_file", "catalog_path"),
    add={"contract_state": (str, "contract_status")},
    retype={"published_bytes": float | None},
)
Edge = derive(model.Edge)
Consumer = derive(model.Consumer)
Expense = derive(model.Expense)
Cost = derive(
    model.Cost,
    retype={"published_bytes": float, "live_bytes": float, "warehouse_bytes": float | None, "rows": float},
)
Health = derive(model.Health)
Product = derive(model.Product, hide=("descriptor", "catalog_path"), add={"pii": (bool, "schedule")})
