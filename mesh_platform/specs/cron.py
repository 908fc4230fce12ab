"""Cron expressions in the dialect Dagster's scheduler runs.

Dagster 1.13 evaluates schedules with a vendored copy of croniter 6.0.0; we check with the
same croniter release (pinned) through its public API, and add Dagster's own rules (five
fields, no 30/31 February). croniter's extensions (``L``, ``#``, ``H``, ``W``, ``?``) are
refused: other schedulers (and readers) do not share them, and a contract's frequency is read
by consumers too.
"""

from __future__ import annotations

import re
from datetime import datetime

from croniter import croniter

_EXTENSION = re.compile(r"[#?]|(?<![A-Za-z])[LlHhWwRr](?![A-Za-z])")
_FIELD = re.compile(r"^[0-9A-Za-z*,/\-]+$")


def check_cron(expression: object) -> str:
    """Return the expression if Dagster can schedule it, else raise ValueError saying why."""
    shown = repr(expression) if len(repr(expression)) <= 80 else repr(expression)[:77] + "..."
    if not isinstance(expression, str):
        raise ValueError(f"invalid cron expression {shown}: expected text")
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"invalid cron expression {shown}: expected 5 fields (minute hour day-of-month "
            f"month day-of-week), got {len(fields)}"
        )
    if _EXTENSION.search(expression) or not all(_FIELD.match(f) for f in fields):
        raise ValueError(
            f"invalid cron expression {shown}: use numbers, names, '*', ',', '-' and '/' "
            "(L, W, #, H and ? are not supported)"
        )
    try:
        valid = croniter.is_valid(expression)
        expanded = croniter.expand(expression)[0] if valid else None
    except Exception:  # croniter signals some malformed input with arbitrary errors
        valid, expanded = False, None
    if not valid or expanded is None or len(expanded) != 5:
        raise ValueError(f"invalid cron expression {shown}")
    months, days = expanded[3], expanded[2]
    if len(months) == 1 and months[0] == 2 and len(days) == 1 and days[0] in (30, 31):
        raise ValueError(f"invalid cron expression {shown}: it never fires (there is no {days[0]} February)")
    try:  # e.g. `0 5 31 4 *`: no 31 April; croniter (as Dagster runs it) finds no next time
        croniter(expression, _NEVER_FIRES_FROM).get_next(datetime)
    except Exception:  # CroniterBadDateError, or another croniter error on odd input
        raise ValueError(
            f"invalid cron expression {shown}: it never fires (no such day in the months it names)"
        ) from None
    return expression


_NEVER_FIRES_FROM = datetime(2026, 1, 1)
