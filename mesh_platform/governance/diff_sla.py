"""Changes to a contract's SLA properties: a promise weakened, removed or strengthened (diff.py
classifies the rest of a contract)."""

from __future__ import annotations

from datetime import timedelta

from mesh_platform.governance.change import BREAKING, INFO, NON_BREAKING, Change, _Side
from mesh_platform.specs.contract import parse_deadline
from mesh_platform.specs.durations import parse_duration


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
