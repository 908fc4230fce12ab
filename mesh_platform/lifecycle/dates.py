"""Calendar dates for lifecycle rules: today (injectable), ISO-8601 periods like P3M.

Notice periods are in months and years (P3M, P1Y), which `timedelta` cannot express, so
periods are added on the calendar: 30 November + P3M is 28 (or 29) February.
"""

from __future__ import annotations

import calendar
import os
from datetime import UTC, date, datetime, timedelta

# Checked where the files are loaded (specs/lifecycle_fields.py); read here on the calendar.
from mesh_platform.specs.lifecycle_fields import parse_date, parse_period  # noqa: F401


def today() -> date:
    """The date lifecycle rules are judged on: UTC today, or MESH_TODAY (YYYY-MM-DD) for
    rehearsing a sunset or an agreement's end before it happens."""
    override = os.environ.get("MESH_TODAY")
    if override:
        return parse_date(override)
    return datetime.now(UTC).date()


def add_period(start: date, period: object) -> date:
    years, months, days = parse_period(period)
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=days)


def subtract_period(end: date, period: object) -> date:
    years, months, days = parse_period(period)
    month_index = end.month - 1 - months - 12 * years
    year, month = end.year + month_index // 12, month_index % 12 + 1
    day = min(end.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=days)
