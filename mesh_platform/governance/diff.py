"""Classify every change between two versions of an output port's contract.

breaking      a column removed or renamed; a type that does not widen; `required` / `unique` /
              primary key added or changed; an enum value removed; a logicalTypeOptions bound
              tightened (or a pattern/format changed); a quality threshold tightened or a rule
              removed; an SLA weakened or removed; a classification lowered; a required column added
non-breaking  a column added as optional; a bound loosened; an enum value or quality rule added
info          descriptions and terms (usage, limitations, price, notice period, ...)
"""

from __future__ import annotations

from mesh_platform.governance import types
from mesh_platform.governance.change import BREAKING, INFO, NON_BREAKING, Change, _Side
from mesh_platform.governance.diff_quality import _comparable, _quality
from mesh_platform.governance.diff_sla import _sla
from mesh_platform.specs.contract import Contract

CLASSIFICATION_ORDER = ["public", "internal", "confidential", "restricted", "secret"]
_TERMS = ("usage", "limitations", "purpose")


def diff_contract(base: Contract, new: Contract, table: str, base_table: str | None = None) -> list[Change]:
    """Changes from `base` to `new` for the schema object `table` (an output port's model)."""
    old, cur = _Side(base, base_table or table), _Side(new, table)
    out: list[Change] = []

    def add(kind, what, message, column=None, side=cur, line=None):
        out.append(Change(kind, what, message, column, side.contract.file, line))

    removed = [c for c in old.props if c not in cur.props]
    added = [c for c in cur.props if c not in old.props]
    renamed = _renames(old, cur, removed, added)
    for name in removed:
        if name in renamed:
            add(
                BREAKING,
                "column renamed",
                f"column {name!r} renamed to {renamed[name]!r}",
                name,
                line=cur.col_line(renamed[name]),
            )
        else:
            add(BREAKING, "column removed", f"column {name!r} removed", name, side=old, line=old.col_line(name))
    for name in added:
        if name in renamed.values():
            continue
        _, prop = cur.props[name]
        if prop.get("required") or prop.get("primaryKey"):
            add(BREAKING, "required column added", f"column {name!r} added as required", name, line=cur.col_line(name))
        else:
            add(NON_BREAKING, "column added", f"column {name!r} added as optional", name, line=cur.col_line(name))
    for name in [c for c in cur.props if c in old.props]:
        out += _column(old, cur, name)
    out += _quality(old, cur, old.obj.get("quality", []), cur.obj.get("quality", []), None)
    out += _sla(old, cur)
    out += _terms(old, cur)
    return out


def _renames(old: _Side, cur: _Side, removed: list[str], added: list[str]) -> dict[str, str]:
    """A removed and an added column at the same position with the same type: a rename."""
    out = {}
    for name in removed:
        i, prop = old.props[name]
        for new_name in added:
            j, new_prop = cur.props[new_name]
            if i == j and prop.get("physicalType") == new_prop.get("physicalType") and new_name not in out.values():
                out[name] = new_name
    return out


def _column(old: _Side, cur: _Side, name: str) -> list[Change]:
    _, a = old.props[name]
    _, b = cur.props[name]
    out: list[Change] = []

    def add(kind, what, message, *path):
        out.append(
            Change(kind, what, f"column {name!r}: {message}", name, cur.contract.file, cur.col_line(name, *path))
        )

    if (a.get("logicalType"), a.get("physicalType")) != (b.get("logicalType"), b.get("physicalType")):
        kind = NON_BREAKING if types.widens(a, b) else BREAKING
        add(
            kind,
            "type widened" if kind == NON_BREAKING else "type changed",
            f"type {_t(a)} -> {_t(b)}" + ("" if kind == NON_BREAKING else " (does not widen)"),
            "physicalType",
        )
    for flag in ("required", "unique", "primaryKey", "primaryKeyPosition"):
        if bool(a.get(flag)) != bool(b.get(flag)) or (flag == "primaryKeyPosition" and a.get(flag) != b.get(flag)):
            verb = "added" if b.get(flag) and not a.get(flag) else "changed"
            add(BREAKING, f"{flag} {verb}", f"{flag} {a.get(flag)!r} -> {b.get(flag)!r}", flag)
    old_enum, new_enum = _enum(a), _enum(b)
    if old_enum is not None or new_enum is not None:
        if new_enum is not None and old_enum is None:
            add(BREAKING, "enum added", f"values restricted to {sorted(new_enum)}", "enum")
        elif new_enum is not None:
            if old_enum - new_enum:
                add(BREAKING, "enum value removed", f"enum values removed: {sorted(old_enum - new_enum)}", "enum")
            if new_enum - old_enum:
                add(NON_BREAKING, "enum value added", f"enum values added: {sorted(new_enum - old_enum)}", "enum")
        else:
            add(NON_BREAKING, "enum removed", "no longer restricted to a list of values")
    out += _options(a.get("logicalTypeOptions") or {}, b.get("logicalTypeOptions") or {}, add)
    ca, cb = (a.get("classification") or "").lower(), (b.get("classification") or "").lower()
    if ca != cb:
        lowered = ca and (
            not cb
            or (
                ca in CLASSIFICATION_ORDER
                and cb in CLASSIFICATION_ORDER
                and CLASSIFICATION_ORDER.index(cb) < CLASSIFICATION_ORDER.index(ca)
            )
        )
        add(
            BREAKING if lowered else NON_BREAKING,
            "classification lowered" if lowered else "classification changed",
            f"classification {ca or None!r} -> {cb or None!r}",
            "classification",
        )
    for field in ("description", "businessName", "tags", "examples"):
        if a.get(field) != b.get(field):
            add(INFO, f"{field} changed", f"{field} changed", field)
    out += _quality(old, cur, a.get("quality", []), b.get("quality", []), name)
    return out


def _t(prop: dict) -> str:
    return prop.get("physicalType") or prop.get("logicalType") or "?"


def _enum(prop: dict) -> set[str] | None:
    values = prop.get("enum")
    if values is None:
        values = (prop.get("logicalTypeOptions") or {}).get("enum")
    if values is None:
        return None
    return {str(v.get("value") if isinstance(v, dict) else v) for v in values}


def _options(a: dict, b: dict, add) -> list[Change]:
    for key in sorted(set(a) | set(b)):
        if key == "enum" or a.get(key) == b.get(key):
            continue
        lower = key.startswith("min") or key == "exclusiveMinimum"
        upper = key.startswith("max") or key == "exclusiveMaximum"
        if key not in a:
            add(BREAKING, "bound tightened", f"logicalTypeOptions.{key} {b[key]!r} added", "logicalTypeOptions", key)
        elif key not in b:
            add(NON_BREAKING, "bound loosened", f"logicalTypeOptions.{key} {a[key]!r} removed", "logicalTypeOptions")
        elif (lower or upper) and _comparable(a[key], b[key]):
            tighter = b[key] > a[key] if lower else b[key] < a[key]
            add(
                BREAKING if tighter else NON_BREAKING,
                "bound tightened" if tighter else "bound loosened",
                f"logicalTypeOptions.{key} {a[key]!r} -> {b[key]!r}",
                "logicalTypeOptions",
                key,
            )
        else:
            add(
                BREAKING,
                "option changed",
                f"logicalTypeOptions.{key} {a[key]!r} -> {b[key]!r}",
                "logicalTypeOptions",
                key,
            )
    return []


def _terms(old: _Side, cur: _Side) -> list[Change]:
    a = old.contract.model.model_dump(exclude_none=True)
    b = cur.contract.model.model_dump(exclude_none=True)
    out = []
    for term in _TERMS:
        if (a.get("description") or {}).get(term) != (b.get("description") or {}).get(term):
            out.append(
                Change(
                    INFO,
                    "terms changed",
                    f"description.{term} changed",
                    None,
                    cur.contract.file,
                    cur.line("description", term),
                )
            )
    for field in ("price", "customProperties", "support", "team"):
        if a.get(field) != b.get(field):
            out.append(
                Change(
                    INFO,
                    "terms changed",
                    f"{field} changed",
                    None,
                    cur.contract.file,
                    cur.contract.doc.line_of((field,)),
                )
            )
    if old.obj.get("description") != cur.obj.get("description"):
        out.append(
            Change(
                INFO,
                "description changed",
                "schema description changed",
                None,
                cur.contract.file,
                cur.line("description"),
            )
        )
    return out
