"""What auditing a built relation gave: the check outcomes, and the publication if it passed.

The same shape on every target (publishing/target.py), so the Dagster wiring reads one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesh_platform.contracts.model import CheckOutcome


@dataclass
class AuditResult:
    port: Any  # mesh.domain.Port
    outcomes: list[CheckOutcome]
    published: Any | None  # snapshots.Published (DuckDB) or bigquery.Published, None if not published

    @property
    def blocked_by(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.blocks]


class AuditFailed(RuntimeError):
    """The staged rows break the contract: nothing was appended."""

    def __init__(self, message: str, outcomes: list[CheckOutcome]):
        super().__init__(message)
        self.outcomes = outcomes
