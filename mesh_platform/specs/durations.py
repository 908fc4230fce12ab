"""Durations as contracts write them: ISO-8601 (PT24H, P1D) or a value with a unit."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {
    "s": "seconds",
    "sec": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}


class UnitError(ValueError):
    """The value is a number but its unit is missing or unknown: the unit is what to fix."""


def parse_duration(value: object, unit: str | None = None) -> timedelta:
    """Raise ValueError with what was expected when the duration cannot be read."""
    if isinstance(value, str) and value.upper().startswith("P"):
        match = _ISO.match(value.upper())
        if not match or not any(match.groupdict().values()):
            raise ValueError(f"expected an ISO-8601 duration like PT24H or P1D, got {value!r}")
        return _bounded(value, lambda: timedelta(**{k: int(v) for k, v in match.groupdict().items() if v}))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number with a unit or an ISO-8601 duration, got {_short(value)}")
    if unit is None or not isinstance(unit, str) or unit.lower() not in _UNITS:
        raise UnitError(f"expected a unit among {sorted(set(_UNITS))}, got {_short(unit)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return _bounded(value, lambda: timedelta(**{_UNITS[unit.lower()]: value}))


MAX_DURATION = timedelta(days=3660)  # ten years: longer is a typo, and timedelta overflows soon after


def _bounded(value: object, make) -> timedelta:
    try:
        delta = make()
    except OverflowError:
        delta = None
    if delta is None or abs(delta) > MAX_DURATION:
        raise ValueError(f"expected a duration of at most {MAX_DURATION.days} days, got {_short(value)}")
    if delta < timedelta(0):
        raise ValueError(f"expected a positive duration, got {_short(value)}")
    return delta


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds > 2 * 86400:  # "24h" reads better than "1d" in an SLA
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
