"""What a port's catalog entry says about its life: its state, its access mode and, when it is
deprecated, the sunset date, the replacement and the days left. (The same facts as Dagster
asset metadata, with the port's agreements: dagster_wiring/lifecycle_metadata.py.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mesh_platform.lifecycle import states as st
from mesh_platform.mesh.domain import Port


def port_facts(port: Port, today: date) -> dict[str, Any]:
    """What a consumer must know about a port before relying on it, on `today`: its state, its
    access mode and, when deprecated, the dates, the replacement and the days left to sunset.
    One record for the catalog page, `mesh catalog show`, `mesh agreement list` and GraphQL."""
    lifecycle = st.port_lifecycle(port)
    deprecated = lifecycle.state == st.DEPRECATED
    sunset = lifecycle.sunset_date if deprecated else None
    return {
        "state": lifecycle.state,
        "access": st.access_mode(port),
        "deprecation_date": str(lifecycle.deprecation_date) if deprecated and lifecycle.deprecation_date else None,
        "sunset_date": str(sunset) if sunset else None,
        "replaced_by": lifecycle.replaced_by if deprecated else None,
        "days_to_sunset": (sunset - today).days if sunset else None,
        "days_left": days_left((sunset - today).days) if sunset else "",
    }


def days_left(days: int | None) -> str:
    """`42 days left`, `1 day left`, `sunset today`, `sunset passed 3 days ago`."""
    if days is None:
        return ""
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    if days == 0:
        return "sunset today"
    return f"sunset passed {-days} day{'s' if days != -1 else ''} ago"


def describe_port(facts: dict[str, Any]) -> str:
    """One line: `deprecated, sunset 2027-02-21 (81 days left), replaced by <port>; access approval-required`."""
    text = facts["state"]
    if facts.get("sunset_date"):
        text += f", sunset {facts['sunset_date']} ({facts['days_left']})"
    if facts.get("replaced_by"):
        text += f", replaced by {facts['replaced_by']}"
    return f"{text}; access {facts['access']}"
