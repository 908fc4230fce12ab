"""The date lifecycle rules are judged on (injectable). Periods like P3M are added on the
calendar by specs/periods.py: 30 November + P3M is 28 (or 29) February."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from mesh_platform.specs.lifecycle_fields import parse_date


def today() -> date:
    """The date lifecycle rules are judged on: UTC today, or MESH_TODAY (YYYY-MM-DD) for
    rehearsing a sunset or an agreement's end before it happens."""
    override = os.environ.get("MESH_TODAY")
    if override:
        return parse_date(override)
    return datetime.now(UTC).date()
