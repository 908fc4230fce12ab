"""The sample shop's days, relative to the run date: its order history ends yesterday (UTC),
the newest complete daily partition (domains/checkout/seed.py)."""

from __future__ import annotations

import datetime as dt

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def day(days_before_yesterday: int = 0) -> str:
    return str(YESTERDAY - dt.timedelta(days=days_before_yesterday))


def last_days(n: int) -> str:
    """The last n days of history as a `--partition` range."""
    return f"{day(n - 1)}...{day()}"
