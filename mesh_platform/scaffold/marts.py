"""The mart a new product starts from, one template per shape: `filter` (the rows of one port),
`aggregate` (one port grouped by a date or a plain text column, its amounts summed) and `join`
(several ports on their shared columns). Each gives the output columns, traced to their input
port with type, classification and value rules carried over, the key and the SQL
(templates/mart_*.sql.jinja)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mesh_platform.lifecycle import states as st
from mesh_platform.mesh.domain import Port
from mesh_platform.scaffold.files import ScaffoldError, render

TEMPLATES = ("filter", "aggregate", "join")
_KEYISH = re.compile(r"(_id|_sk|_key|_number|_code)$|^(id|lei)$")


@dataclass(frozen=True)
class Column:
    """A column of the new product's output port, traced to the input port it comes from."""

    name: str
    source: str  # the input port's staging model
    expression: str
    prop: dict[str, Any]  # the ODCS property for the new contract


def mart_for(
    template: str,
    name: str,
    ports: list[Port],
    staging: dict[str, str],
    group_by: list[str] | None,
    join_on: list[str] | None,
) -> tuple[list[Column], list[str], str]:
    if template == "filter":
        port = ports[0]
        columns = [_carried(port, p, staging[port.address]) for p in port.schema.properties or []]
        key = _key(port)
        select = ",\n    ".join(c.name for c in columns)
        sql = render("mart_filter.sql.jinja", name=name, port=port.address, select=select, model=staging[port.address])
        return columns, key, sql
    if template == "aggregate":
        return _aggregate(name, ports[0], staging[ports[0].address], group_by)
    return _join(name, ports, staging, join_on)


def _aggregate(name: str, port: Port, model: str, group_by: list[str] | None):
    props = {p.name: p for p in port.schema.properties or []}
    sensitive = set(st.sensitive_columns(port))
    if group_by:
        missing = [c for c in group_by if c not in props]
        if missing:
            raise ScaffoldError(
                f"--group-by {', '.join(missing)}: not columns of {port.address} (columns: {', '.join(props)})"
            )
        dims = list(group_by)
    else:
        dates = [n for n, p in props.items() if (p.logicalType or "") == "date"]
        dims = (
            dates[:1]
            or [
                n
                for n, p in props.items()
                if (p.logicalType or "") == "string" and n not in sensitive and not p.unique and not p.primaryKey
            ][:1]
        )
        if not dims:
            raise ScaffoldError(f"{port.address} has no date or plain text column to group by: use --group-by")
    columns = [
        _carried(port, props[d], model, key_position=i + 1 if props[d].required else None) for i, d in enumerate(dims)
    ]
    key = dims if all(props[d].required for d in dims) else []
    columns.append(
        Column(
            "row_count",
            model,
            "count(*)",
            {
                "name": "row_count",
                "logicalType": "integer",
                "physicalType": "bigint",
                "required": True,
                "description": f"Rows of {port.address} in the group.",
            },
        )
    )
    for col, prop in props.items():
        logical = (prop.logicalType or "").lower()
        if (
            col in dims
            or col in sensitive
            or logical not in ("number", "integer")
            or _KEYISH.search(col)
            or prop.primaryKey
            or col.endswith("line_number")
        ):
            continue
        scale = _scale(prop.physicalType)
        physical = (
            f"decimal(38,{scale})"
            if logical == "number" and scale is not None
            else ("double" if logical == "number" else "bigint")
        )
        columns.append(
            Column(
                f"total_{col}",
                model,
                f"cast(sum({col}) as {physical})",
                {
                    "name": f"total_{col}",
                    "logicalType": logical,
                    "physicalType": physical,
                    "description": f"Sum of {port.address}.{col} in the group.",
                },
            )
        )
    select = ",\n    ".join(f"{c.expression} as {c.name}" if c.expression != c.name else c.name for c in columns)
    sql = render("mart_aggregate.sql.jinja", name=name, port=port.address, dims=dims, select=select, model=model)
    return columns, key, sql


def _join(name: str, ports: list[Port], staging: dict[str, str], join_on: list[str] | None):
    first = ports[0]
    first_props = {p.name: p for p in first.schema.properties or []}
    columns = [_carried(first, p, "l") for p in first.schema.properties or []]
    key = _key(first)
    joins, taken = [], set(first_props)
    for i, port in enumerate(ports[1:], start=1):
        props = {p.name: p for p in port.schema.properties or []}
        if join_on:
            pairs = [tuple(item.split("=", 1)) if "=" in item else (item, item) for item in join_on]
            bad = [f"{a}={b}" for a, b in pairs if a not in first_props or b not in props]
            if bad:
                raise ScaffoldError(
                    f"--join-on {', '.join(bad)}: expected <{first.name} column>=<{port.name} column> "
                    f"(columns: {', '.join(first_props)} / {', '.join(props)})"
                )
        else:
            pairs = [
                (c, c)
                for c in props
                if c in first_props and (props[c].logicalType or "") == (first_props[c].logicalType or "")
            ]
            # Prefer the other port's key when the ports share it: lei, not parent_lei.
            keyed = [(a, b) for a, b in pairs if b in set(_key(port))]
            pairs = keyed or pairs
        on = [b for _, b in pairs]
        if not pairs:
            raise ScaffoldError(
                f"{first.address} and {port.address} share no column of the same name and type "
                "to join on; scaffold with --template filter per port and join them in SQL"
            )
        alias = f"r{i}"
        right_key = set(_key(port)) or {c for c, p in props.items() if p.unique}
        if not right_key or not right_key <= set(on):
            key = []  # a row of the first port may match several: its key no longer identifies a row
        for col, prop in props.items():
            if col in on:
                continue
            out_name = col if col not in taken else f"{port.name}__{col}"
            taken.add(out_name)
            carried = _carried(port, prop, alias, optional=True)
            columns.append(Column(out_name, alias, f"{alias}.{col}", {**carried.prop, "name": out_name}))
        joins.append(
            {
                "model": staging[port.address],
                "alias": alias,
                "on": " and ".join(f"{alias}.{b} = l.{a}" for a, b in pairs),
            }
        )
    columns = [
        Column(
            c.name,
            c.source,
            f"l.{c.name}" if c.source == "l" else c.expression,
            {k: v for k, v in c.prop.items() if key or k not in ("primaryKey", "primaryKeyPosition", "unique")},
        )
        for c in columns
    ]
    select = ",\n    ".join(
        c.expression if c.expression.endswith(f".{c.name}") else f"{c.expression} as {c.name}" for c in columns
    )
    sql = render(
        "mart_join.sql.jinja",
        name=name,
        first=first.address,
        others=[p.address for p in ports[1:]],
        select=select,
        model=staging[first.address],
        joins=joins,
    )
    return columns, key, sql


def _carried(port: Port, prop, model: str, key_position: int | None = None, optional: bool = False) -> Column:
    """An input column as an output column: type, classification and value rules carried over."""
    out: dict[str, Any] = {"name": prop.name}
    for attr in ("logicalType", "physicalType", "classification"):
        if getattr(prop, attr):
            out[attr] = getattr(prop, attr)
    out["description"] = f"From {port.address}.{prop.name}" + (f": {prop.description}" if prop.description else ".")
    if prop.required and not optional:
        out["required"] = True
    if key_position is not None:
        out.update(primaryKey=True, primaryKeyPosition=key_position)
    elif prop.primaryKey and not optional:
        out.update(primaryKey=True, primaryKeyPosition=prop.primaryKeyPosition or 1)
        if prop.unique:
            out["unique"] = True
    if prop.logicalTypeOptions:
        out["logicalTypeOptions"] = dict(prop.logicalTypeOptions)
    if prop.tags:
        out["tags"] = list(prop.tags)
    return Column(prop.name, model, prop.name, out)


def _key(port: Port) -> list[str]:
    return [
        p.name
        for p in sorted(
            (p for p in port.schema.properties or [] if p.primaryKey), key=lambda p: p.primaryKeyPosition or 0
        )
    ]


def _scale(physical: str | None) -> int | None:
    match = re.match(r"^\s*(decimal|numeric)\s*\(\s*\d+\s*,\s*(\d+)\s*\)", physical or "", re.I)
    return int(match.group(2)) if match else None
