"""Terminal output for every `mesh` command: what the user wrote (file contents, names, problem
messages quoting a value) is printed as it is, never read as Rich markup -- a regex like
``^[/a-z]+($`` must not crash the printer, nor ``[a, b]`` vanish from a message. Colour comes
only from the platform's own labels, as styled Text."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def make_console(width: int | None = None, **options: Any) -> Console:
    """A Console that prints strings literally: no markup, no emoji codes, no highlighting."""
    if width is None and "file" not in options:
        width = None if sys.stdout.isatty() else 160
    return Console(width=width, markup=False, emoji=False, highlight=False, **options)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and (text, style) pairs joined into one Text; nothing in them is markup."""
    return Text.assemble(*parts)


def facts(rows: list[tuple[str, Any]]) -> Table:
    """Label/value lines (labels bold), values printed literally."""
    grid = Table.grid(padding=(0, 2))
    for label, value in rows:
        grid.add_row(styled((label, "bold")), Text(str(value)))
    return grid


def rows_table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A titled table; cells are printed literally (None as '-'), long text folds."""
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(Text("-" if cell is None else str(cell)) for cell in row))
    return out
