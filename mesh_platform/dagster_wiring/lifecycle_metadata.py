"""What a port's asset metadata says about its life and its agreements.

The provider sees its consumers and their purposes; a consumer sees the agreements its
product holds; everyone sees a deprecation with its sunset date and replacement.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg

from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle.rules import agreement_status, team
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.mesh.domain import Port


def lifecycle_metadata(port: Port, mesh: Mesh, today: date) -> dict[str, Any]:
    lifecycle = st.port_lifecycle(port)
    meta: dict[str, Any] = {"lifecycle/state": lifecycle.state, "lifecycle/access": st.access_mode(port)}
    if lifecycle.state == st.DEPRECATED:
        meta["lifecycle/deprecation_date"] = str(lifecycle.deprecation_date or "")
        meta["lifecycle/sunset_date"] = str(lifecycle.sunset_date or "")
        meta["lifecycle/replaced_by"] = lifecycle.replaced_by or ""
    consumers = [
        {
            "agreement": a.id,
            "consumer": a.consumer_product,
            "team": team(mesh, a.domain),
            "purpose": a.spec.purpose,
            "status": agreement_status(mesh, a, today),
            "start": str(a.spec.start),
            "end": str(a.spec.end or ""),
        }
        for a in mesh.agreements_for(port.address)
    ]
    meta["mesh/consumers"] = dg.MetadataValue.json(consumers)
    product_address = port.product.address
    held = [
        {
            "agreement": a.id,
            "provider_port": a.provider_port,
            "team": team(mesh, PortAddress.parse(a.provider_port).domain),
            "purpose": a.spec.purpose,
            "status": agreement_status(mesh, a, today),
            **_deprecation(mesh, a),
        }
        for a in mesh.agreements
        if a.consumer_product == product_address
    ]
    if held:
        meta["mesh/input_agreements"] = dg.MetadataValue.json(held)
    return meta


def _deprecation(mesh: Mesh, agreement) -> dict[str, Any]:
    """A held agreement on a deprecated port says so on the consumer's asset: the dates, not the
    days left (asset metadata is loaded once per code location, not each day)."""
    port = mesh.port(agreement.provider_port)
    lifecycle = st.port_lifecycle(port) if port is not None else None
    if lifecycle is None or lifecycle.state != st.DEPRECATED:
        return {}
    return {
        "provider_port_state": lifecycle.state,
        "sunset_date": str(lifecycle.sunset_date or ""),
        "replaced_by": lifecycle.replaced_by or "",
    }
