"""`mesh product deprecate|retire|activate`: check the rules, then edit the YAML in place.

A product address (`<domain>.<product>`) changes the descriptor and so every port; a port
address (`<domain>.<product>.<port>`) changes that port's contract only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle import yaml_edit
from mesh_platform.lifecycle.archive import archive_port
from mesh_platform.lifecycle.rules import affected, in_force, team
from mesh_platform.mesh import Mesh
from mesh_platform.specs.periods import add_period


class TransitionRefused(ValueError):
    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass
class Transition:
    address: str
    target: str
    file: Path  # the YAML edited
    previous: str
    ports: list[str]
    affected: list[str] = field(default_factory=list)
    archived: list[Path] = field(default_factory=list)


def plan(
    mesh: Mesh,
    address: str,
    target: str,
    today: date,
    sunset: date | None = None,
    replaced_by: str | None = None,
) -> Transition:
    """Check every rule for moving `address` to `target`; raise TransitionRefused with all reasons."""
    reasons: list[str] = []
    if address.count(".") == 2:
        port = mesh.port(address)
        if port is None:
            raise TransitionRefused([f"no output port {address!r} in the mesh"])
        ports = [port]
        current = st.port_lifecycle(port)
        file = port.contract.file
        if current.declared.doc.file != file and target != st.RETIRED:
            reasons.append(
                f"{address} is {current.state} because its product is ({current.declared.doc.file}); "
                f"change the product {port.product.address} instead"
            )
    elif address.count(".") == 1:
        product = mesh.product(address)
        if product is None:
            raise TransitionRefused([f"no product {address!r} in the mesh"])
        ports = list(product.ports)
        current = st.product_lifecycle(product)
        file = product.file
    else:
        raise TransitionRefused([f"expected <domain>.<product> or <domain>.<product>.<port>, got {address!r}"])

    if target not in st.TRANSITIONS.get(current.state, set()):
        allowed = sorted(st.TRANSITIONS.get(current.state, set()))
        reasons.append(
            f"{address} is {current.state}; it can become {', '.join(allowed) or 'nothing else'}, not {target}"
        )
    if target == st.DEPRECATED:
        reasons += _deprecation_reasons(mesh, address, ports, today, sunset, replaced_by)
    if target == st.RETIRED:
        reasons += _retirement_reasons(mesh, ports, current, today)
    if reasons:
        raise TransitionRefused(reasons)
    return Transition(
        address=address,
        target=target,
        file=file,
        previous=current.state,
        ports=[p.address for p in ports],
        affected=affected(mesh, address, today),
    )


def _deprecation_reasons(mesh, address, ports, today, sunset, replaced_by) -> list[str]:
    reasons = []
    if sunset is None:
        reasons.append("deprecating needs --sunset DATE: the day consumers must have moved by")
    else:
        for port in ports:
            notice = st.notice_period(port)
            earliest = add_period(today, notice) if notice else today
            if sunset < earliest:
                reasons.append(
                    f"sunset {sunset} is too early for {port.address}: its contract promises "
                    f"consumers a notice period of {notice} ({port.contract.file}), so the earliest "
                    f"sunset deprecating today ({today}) is {earliest}"
                )
    if replaced_by:
        target = mesh.port(replaced_by)
        if target is None:
            reasons.append(f"--replaced-by {replaced_by!r} is not an output port of the mesh")
        elif replaced_by in {p.address for p in ports} or replaced_by == address:
            reasons.append("a port cannot be replaced by itself")
        elif st.port_lifecycle(target).state != st.ACTIVE:
            reasons.append(f"--replaced-by {replaced_by} is {st.port_lifecycle(target).state}, not active")
    return reasons


def _retirement_reasons(mesh, ports, current: st.Lifecycle, today) -> list[str]:
    reasons = []
    for port in ports:
        for edge in mesh.consumers_of(port.address, declared=True):
            reasons.append(
                f"{edge.describe()} still reads {port.address}: "
                f"{team(mesh, edge.consumer_domain)} must move off it first"
            )
        before_sunset = current.sunset_date is None or today < current.sunset_date
        if before_sunset and current.state != st.RETIRED:
            for agreement in in_force(mesh, port.address, today):
                reasons.append(
                    f"usage agreement {agreement.id} ({agreement.file}) is in force and the sunset "
                    f"date ({current.sunset_date or 'none'}) has not come: terminate it with notice "
                    "or wait for the sunset"
                )
    return reasons


def apply(
    transition: Transition, today: date, sunset: date | None = None, replaced_by: str | None = None
) -> Transition:
    """Write the new state (comments and layout kept); retiring archives the published snapshots."""
    with yaml_edit.editing(transition.file) as data:
        data["status"] = transition.target
        if transition.target == st.DEPRECATED:
            yaml_edit.set_custom(data, st.DEPRECATION_DATE, today)
            yaml_edit.set_custom(data, st.SUNSET_DATE, sunset)
            if replaced_by:
                yaml_edit.set_custom(data, st.REPLACED_BY, replaced_by)
            else:
                yaml_edit.remove_custom(data, st.REPLACED_BY)
        elif transition.target == st.ACTIVE:
            yaml_edit.remove_custom(data, *st.LIFECYCLE_PROPERTIES)
        elif transition.target == st.RETIRED and sunset is not None:
            yaml_edit.set_custom(data, st.SUNSET_DATE, sunset)
    if transition.target == st.RETIRED:
        transition.archived = [path for path in map(archive_port, transition.ports) if path is not None]
    return transition
