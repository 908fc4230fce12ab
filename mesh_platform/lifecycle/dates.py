"""Calendar dates for lifecycle rules: today (injectable), ISO-8601 periods like P3M.

Notice periods are in months and years (P3M, P1Y), which `timedelta` cannot express, so
periods are added on the calendar: 30 November + P3M is 28 (or 29) February.
"""

from __future__ import annotations

import calendar
import os
import re
from datetime import date, datetime, timezone

_PERIOD = re.compile(r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$")


def today() -> date:
    """The date lifecycle rules are judged on: UTC today, or MESH_TODAY (YYYY-MM-DD) for
    rehearsing a sunset or an agreement's end before it happens."""
    override = os.environ.get("MESH_TODAY")
    if override:
        return parse_date(override)
    return datetime.now(timezone.utc).date()


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def parse_period(value: object) -> tuple[int, int, int]:
    """(years, months, days) of an ISO-8601 date period (P3M, P1Y6M, P30D, P2W)."""
    match = _PERIOD.match(str(value).upper()) if value is not None else None
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"expected an ISO-8601 period like P3M, P1Y or P30D, got {value!r}")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    return parts["years"], parts["months"], parts["days"] + 7 * parts["weeks"]


def add_period(start: date, period: object) -> date:
    years, months, days = parse_period(period)
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    from datetime import timedelta

    return date(year, month, day) + timedelta(days=days)


def subtract_period(end: date, period: object) -> date:
    years, months, days = parse_period(period)
    from datetime import timedelta

    month_index = end.month - 1 - months - 12 * years
    year, month = end.year + month_index // 12, month_index % 12 + 1
    day = min(end.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=days)
