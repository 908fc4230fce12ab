"""Durations as contracts write them: ISO-8601 (PT24H, P1D) or a value with a unit."""

from __future__ import annotations

import re
from datetime import timedelta

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
}


class UnitError(ValueError):
    """The value is a number but its unit is missing or unknown: the unit is what to fix."""


def parse_duration(value: object, unit: str | None = None) -> timedelta:
    """Raise ValueError with what was expected when the duration cannot be read."""
    if isinstance(value, str) and value.upper().startswith("P"):
        match = _ISO.match(value.upper())
        if not match or not any(match.groupdict().values()):
            raise ValueError(f"expected an ISO-8601 duration like PT24H or P1D, got {value!r}")
        return timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number with a unit or an ISO-8601 duration, got {value!r}")
    if unit is None or unit.lower() not in _UNITS:
        raise UnitError(f"expected a unit among {sorted(set(_UNITS))}, got {unit!r}")
    return timedelta(**{_UNITS[unit.lower()]: value})


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds > 2 * 86400:  # "24h" reads better than "1d" in an SLA
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
