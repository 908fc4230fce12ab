"""The one pattern every identifier must match that the platform turns into a file name, a URL
path, a table or dataset name or a Dagster key: product, port and contract ids and names,
versions, domain names.

Letters, digits, `_`, `-` and `.` (ids like ``sales.orders``, versions like
``1.0.0``, contract ids like ``orders-v1``), starting with a letter or a digit, no ``..``,
at most 128 characters: no `/`, `\\`, whitespace, control characters or a path that climbs.
"""

from __future__ import annotations

import re

from mesh_platform.specs.errors import RuleError

# A lower_snake_case name: a domain, product, port, dbt model or partition column, and each part
# of a port address. Composed into the patterns below and in mesh/address.py.
NAME = r"[a-z][a-z0-9_]*"
SNAKE_CASE = re.compile(rf"^{NAME}$")
PORT_ADDRESS = rf"^{NAME}\.{NAME}\.{NAME}$"  # '<domain>.<product>.<port>'

MAX_LENGTH = 128
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
DESCRIBED = (
    f"letters, digits, '_', '-' and '.', starting with a letter or a digit, no '..', at most {MAX_LENGTH} characters"
)


def check_identifier(value: object) -> str:
    """The value, or a ValueError (RuleError) saying what an identifier may contain."""
    if not isinstance(value, str):
        raise RuleError("spec.identifier", f"expected an identifier ({DESCRIBED}), got {type(value).__name__}")
    if not SAFE_ID.fullmatch(value) or ".." in value:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise RuleError("spec.identifier", f"expected an identifier ({DESCRIBED}), got {shown}")
    return value
