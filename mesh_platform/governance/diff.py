"""Classify every change between two versions of an output port's contract.

breaking      a column removed or renamed; a type that does not widen; `required` / `unique` /
              primary key added or changed; an enum value removed; a logicalTypeOptions bound
              tightened (or a pattern/format changed); a quality threshold tightened or a rule
              removed; an SLA weakened or removed; a classification lowered; a required column added
non-breaking  a column added as optional; a bound loosened; an enum value or quality rule added
info          descriptions and terms (usage, limitations, price, notice period, ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from mesh_platform.governance import types
from mesh_platform.specs.contract import Contract, parse_deadline
from mesh_platform.specs.durations import parse_duration

BREAKING, NON_BREAKING, INFO = "breaking", "non-breaking", "info"
CLASSIFICATION_ORDER = ["public", "internal", "confidential", "restricted", "secret"]
_UPPER = {"mustBeLessThan", "mustBeLessOrEqualTo", "mustBeLessThanOrEqualTo"}
_LOWER = {"mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeGreaterThanOrEqualTo"}
_TERMS = ("usage", "limitations", "purpose")


@dataclass(frozen=True)
class Change:
    kind: str  # breaking | non-breaking | info
    what: str  # a short name: "column removed", "type changed", ...
    message: str
    column: str | None = None
    file: Path | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else str(self.file or "")


class _Side:
    def __init__(self, contract: Contract, table: str):
        self.contract = contract
        self.index = contract.schema_index(table)
        obj = contract.schema_object(table)
        self.obj = obj.model_dump(exclude_none=True, by_alias=True) if obj else {}
        self.props = {p.get("physicalName") or p["name"]: (i, p) for i, p in enumerate(self.obj.get("properties", []))}

    def line(self, *path) -> int | None:
        if path and path[0] in ("slaProperties", "description", "price", "customProperties"):
            return self.contract.doc.line_of(tuple(path))
        return self.contract.doc.line_of(("schema", self.index, *path))

    def col_line(self, name: str, *path) -> int | None:
        i, _ = self.props[name]
        return self.line("properties", i, *path)


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


def _comparable(x: Any, y: Any) -> bool:
    try:
        x < y  # noqa: B015 - numbers, ISO dates
        return type(x) is type(y) or all(isinstance(v, (int, float)) for v in (x, y))
    except TypeError:
        return False


def _rule_key(rule: dict) -> str:
    return str(rule.get("id") or rule.get("name") or rule.get("metric") or rule.get("rule") or rule.get("query"))


def _quality(old: _Side, cur: _Side, a: list, b: list, column: str | None) -> list[Change]:
    out: list[Change] = []
    where = f"column {column!r}: " if column else ""
    old_rules = {_rule_key(r): r for r in a}
    new_rules = {_rule_key(r): (i, r) for i, r in enumerate(b)}

    def line(i=None, *path):
        base = ("properties", cur.props[column][0]) if column else ()
        return cur.line(*base, "quality", *((i,) if i is not None else ()), *path)

    for key in old_rules:
        if key not in new_rules:
            out.append(
                Change(
                    BREAKING,
                    "quality rule removed",
                    f"{where}quality rule {key!r} removed",
                    column,
                    cur.contract.file,
                    line(),
                )
            )
    for key, (i, rule) in new_rules.items():
        if key not in old_rules:
            out.append(
                Change(
                    NON_BREAKING,
                    "quality rule added",
                    f"{where}quality rule {key!r} added",
                    column,
                    cur.contract.file,
                    line(i),
                )
            )
            continue
        before = old_rules[key]
        old_valid = (before.get("arguments") or {}).get("validValues")
        new_valid = (rule.get("arguments") or {}).get("validValues")
        if isinstance(old_valid, list) and isinstance(new_valid, list) and old_valid != new_valid:
            # The ODCS way to list allowed values: a library rule invalidValues with validValues.
            gone, extra = (
                sorted(set(map(str, old_valid)) - set(map(str, new_valid))),
                sorted(set(map(str, new_valid)) - set(map(str, old_valid))),
            )
            if gone:
                out.append(
                    Change(
                        BREAKING,
                        "enum value removed",
                        f"{where}quality rule {key!r}: valid values removed: {gone}",
                        column,
                        cur.contract.file,
                        line(i, "arguments"),
                    )
                )
            if extra:
                out.append(
                    Change(
                        NON_BREAKING,
                        "enum value added",
                        f"{where}quality rule {key!r}: valid values added: {extra}",
                        column,
                        cur.contract.file,
                        line(i, "arguments"),
                    )
                )
            before = {**before, "arguments": {**before["arguments"], "validValues": new_valid}}
        verdict = _threshold(before, rule)
        if verdict is None:
            continue
        what = {BREAKING: "quality threshold tightened", NON_BREAKING: "quality threshold loosened"}.get(
            verdict, "quality rule changed"
        )
        out.append(
            Change(
                verdict,
                what,
                f"{where}quality rule {key!r}: {_describe(before)} -> {_describe(rule)}",
                column,
                cur.contract.file,
                line(i),
            )
        )
    return out


def _describe(rule: dict) -> str:
    return (
        ", ".join(f"{k} {v!r}" for k, v in rule.items() if k.startswith("mustBe") or k in ("severity", "query")) or "-"
    )


def _threshold(a: dict, b: dict) -> str | None:
    """Breaking when the rule got stricter (existing data may now fail and block publishing)."""
    ops_a = {k: v for k, v in a.items() if k.startswith("mustBe")}
    ops_b = {k: v for k, v in b.items() if k.startswith("mustBe")}
    other = {k for k in set(a) | set(b) if not k.startswith("mustBe") and k not in ("description", "name")}
    if ops_a == ops_b and all(a.get(k) == b.get(k) for k in other):
        return None
    if set(ops_a) == set(ops_b) and len(ops_a) == 1 and all(a.get(k) == b.get(k) for k in other):
        (op, x), y = next(iter(ops_a.items())), ops_b[next(iter(ops_a))]
        if op in _UPPER and _comparable(x, y):
            return BREAKING if y < x else NON_BREAKING
        if op in _LOWER and _comparable(x, y):
            return BREAKING if y > x else NON_BREAKING
        if op in ("mustBeBetween",) and isinstance(x, list) and isinstance(y, list) and len(x) == len(y) == 2:
            return BREAKING if (y[0] > x[0] or y[1] < x[1]) else NON_BREAKING
    if set(a) - set(b) == {"description"} or set(b) - set(a) == {"description"}:
        return INFO
    return BREAKING  # an operator, query, metric or severity changed: treat as stricter


def _sla(old: _Side, cur: _Side) -> list[Change]:
    out = []
    a = {
        (p.get("property") or "").lower(): p
        for p in (old.contract.model.model_dump(exclude_none=True).get("slaProperties") or [])
    }
    b_list = cur.contract.model.model_dump(exclude_none=True).get("slaProperties") or []
    b = {(p.get("property") or "").lower(): (i, p) for i, p in enumerate(b_list)}
    for name, prop in a.items():
        if name not in b:
            out.append(
                Change(
                    BREAKING,
                    "SLA removed",
                    f"SLA {name} ({prop.get('value')} {prop.get('unit', '')}) removed",
                    None,
                    cur.contract.file,
                    cur.line("slaProperties"),
                )
            )
            continue
        i, new = b[name]
        if prop == new:
            continue
        verdict = _sla_verdict(name, prop, new)
        out.append(
            Change(
                verdict,
                "SLA weakened" if verdict == BREAKING else "SLA changed",
                f"SLA {name}: {prop.get('value')} {prop.get('unit', '')} -> {new.get('value')} {new.get('unit', '')}".strip(),
                None,
                cur.contract.file,
                cur.line("slaProperties", i),
            )
        )
    for name, (i, _prop) in b.items():
        if name not in a:
            out.append(
                Change(
                    NON_BREAKING,
                    "SLA added",
                    f"SLA {name} added",
                    None,
                    cur.contract.file,
                    cur.line("slaProperties", i),
                )
            )
    return out


def _sla_verdict(name: str, a: dict, b: dict) -> str:
    try:
        if name in ("freshness", "latency"):
            return BREAKING if _duration(b) > _duration(a) else NON_BREAKING
        if name == "retention":
            return BREAKING if _duration(b) < _duration(a) else NON_BREAKING
        if name == "timeofavailability":
            (ta, za), (tb, zb) = parse_deadline(a.get("value")), parse_deadline(b.get("value"))
            return BREAKING if za != zb or tb > ta else NON_BREAKING
    except (ValueError, TypeError):
        return BREAKING
    if name in ("frequency",) or {k for k in set(a) | set(b) if a.get(k) != b.get(k)} <= {"description"}:
        return INFO if {k for k in set(a) | set(b) if a.get(k) != b.get(k)} <= {"description"} else BREAKING
    return BREAKING


def _duration(prop: dict) -> timedelta:
    unit = str(prop.get("unit") or "").lower()
    days = {"y": 365, "yr": 365, "year": 365, "years": 365, "mo": 30, "month": 30, "months": 30}.get(unit)
    if days:
        return timedelta(days=days * float(prop.get("value")))
    return parse_duration(prop.get("value"), prop.get("unit"))


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
