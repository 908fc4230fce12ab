"""One redaction function for everything the platform writes: log lines, metadata values,
alerts and exception messages.

Masked:
- userinfo in URLs (`http://user:secret@host` -> `http://***@host`);
- webhook URLs, whose path is the secret (`https://hooks.example.com/services/T0/B0/xyz`
  -> `https://hooks.example.com/***`): any URL whose host or path says "hook";
- secret-looking query parameters (`?token=...`, `key`, `sig`, `signature`, `secret`, ...);
- the value of every environment variable that configuration names as a secret: names
  registered with `register_secret_env` (e.g. a domain's `alerts.webhook_env`), names in
  `MESH_SECRET_ENV` (comma-separated), and names ending in _KEY, _TOKEN, _SECRET, _PASSWORD,
  _PASSWD, _CREDENTIALS or _WEBHOOK_URL.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
_SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_CREDENTIALS", "_WEBHOOK_URL")
_registered: set[str] = set()
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"]+@")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_HOOK_URL = re.compile(
    r"(?P<base>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s'\"<>]*hook[^/\s'\"<>]*)(?P<path>/[^\s'\"<>]*)?"
    r"|(?P<base2>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s'\"<>]+)(?P<path2>/[^\s'\"<>]*hook[^\s'\"<>]*)",
    re.IGNORECASE,
)
_QUERY_SECRET = re.compile(
    r"(?P<k>[?&](?:api[_-]?key|key|token|access[_-]?token|secret|sig|signature|password|"
    r"pass|auth)=)[^&\s'\"<>]+",
    re.IGNORECASE,
)
_MIN_SECRET_LEN = 4


def register_secret_env(*names: str | None) -> None:
    """Treat these environment variables' values as secrets (configuration names them)."""
    _registered.update(n for n in names if n)


def secret_env_names() -> set[str]:
    names = set(_registered)
    names.update(n.strip() for n in os.environ.get("MESH_SECRET_ENV", "").split(",") if n.strip())
    names.update(n for n in os.environ if n.upper().endswith(_SECRET_SUFFIXES))
    return names


def secret_values() -> list[str]:
    """Current values of the secret environment variables, longest first. A URL's path, query
    and password count too: HTTP libraries quote them without the host (`url: /services/...`)."""
    values = set()
    for name in secret_env_names():
        value = os.environ.get(name, "")
        values.add(value)
        if "://" in value:
            parts = urlsplit(value)
            values.update(
                {
                    parts.path if len(parts.path) > 1 else "",
                    parts.query,
                    parts.password or "",
                    parts.path + ("?" + parts.query if parts.query else ""),
                }
            )
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LEN), key=len, reverse=True)


def redact(text: Any) -> str:
    """`text` as a string with every secret masked."""
    text = "" if text is None else str(text)
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _HOOK_URL.sub(_mask_hook, text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('k')}{MASK}", text)


def _mask_hook(match: re.Match) -> str:
    base = match.group("base") or match.group("base2")
    return f"{base}/{MASK}"


def redact_value(value: Any) -> Any:
    """Strings redacted inside dicts, lists and tuples; other values as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


class RedactingLog:
    """A logger wrapper (Dagster's context.log or logging.Logger) that redacts every message."""

    def __init__(self, log: Any):
        self._log = log

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._log, name)
        if name in ("debug", "info", "warning", "warn", "error", "critical", "exception"):
            return lambda msg, *args, **kwargs: target(redact(msg % args if args else msg), **kwargs)
        return target
