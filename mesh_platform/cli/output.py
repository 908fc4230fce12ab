"""Terminal output for every `mesh` command: what the user wrote (file contents, names, problem
messages quoting a value) is printed as it is, never read as Rich markup -- a regex like
``^[/a-z]+($`` must not crash the printer, nor ``[a, b]`` vanish from a message. Colour comes
only from the platform's own labels, as styled Text."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.text import Text


def make_console(width: int | None = None, **options: Any) -> Console:
    """A Console that prints strings literally: no markup, no emoji codes, no highlighting."""
    if width is None and "file" not in options:
        width = None if sys.stdout.isatty() else 160
    return Console(width=width, markup=False, emoji=False, highlight=False, **options)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and (text, style) pairs joined into one Text; nothing in them is markup."""
    return Text.assemble(*parts)
