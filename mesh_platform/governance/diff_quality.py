"""Changes to a contract's quality rules: a rule removed or added, a threshold tightened or
loosened (diff.py classifies the rest of a contract)."""

from __future__ import annotations

from typing import Any

from mesh_platform.governance.change import BREAKING, INFO, NON_BREAKING, Change, _Side

_UPPER = {"mustBeLessThan", "mustBeLessOrEqualTo", "mustBeLessThanOrEqualTo"}
_LOWER = {"mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeGreaterThanOrEqualTo"}


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
