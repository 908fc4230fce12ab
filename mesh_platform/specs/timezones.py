"""IANA timezone names, checked without letting a hostile value reach the file system."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# IANA names are ASCII words joined by '/', '_', '-' and '+' (e.g. America/Argentina/Buenos_Aires,
# Etc/GMT+5); the longest is about 30 characters.
_IANA = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$")
MAX_LENGTH = 64


def check_timezone(tz: object) -> str:
    """Return tz if it names an IANA timezone, else raise ValueError saying so."""
    shown = repr(tz) if len(repr(tz)) <= 80 else repr(tz)[:77] + "..."
    if not isinstance(tz, str) or len(tz) > MAX_LENGTH or not _IANA.match(tz):
        raise ValueError(f"unknown IANA timezone {shown} (expected a name like 'Europe/Paris' or 'UTC')")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown IANA timezone {shown}") from None
    return tz
