"""`mesh agreement request|approve|terminate`: write the files each team merges.

The request lands in the consumer's folder, the approval and a provider's termination in
the provider's: a pull request touching either is reviewed by that folder's owners.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mesh_platform.lifecycle import agreements as ag
from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle import yaml_edit
from mesh_platform.lifecycle.rules import MeshLifecycle


class AgreementError(ValueError):
    pass


def request(
    view: MeshLifecycle,
    consumer_product: str,
    provider_port: str,
    purpose: str,
    start: date,
    end: date | None = None,
    input_port: str | None = None,
    requested_by: str | None = None,
) -> Path:
    product = view.product(consumer_product)
    if product is None:
        raise AgreementError(f"no product {consumer_product!r} in the mesh (expected <domain>.<product>)")
    port = view.port(provider_port)
    if port is None:
        raise AgreementError(f"no output port {provider_port!r} in the mesh")
    if port.product.domain_name == product.domain_name:
        raise AgreementError("a domain needs no agreement with itself: ref() the model")
    lifecycle = st.port_lifecycle(port)
    if lifecycle.state not in st.PUBLISHED:
        raise AgreementError(f"{provider_port} is {lifecycle.state}: only published ports can be agreed on")
    if len(purpose.strip()) < 10:
        raise AgreementError("--purpose must say what the data is for (at least a sentence)")
    input_port = input_port or port.name
    agreement_id = ag.agreement_id(consumer_product, input_port)
    existing = view.agreement(agreement_id)
    if existing is not None:
        raise AgreementError(f"agreement {agreement_id} exists already ({existing.file})")
    data = CommentedMap()
    data["apiVersion"] = ag.API_VERSION
    data["kind"] = ag.AGREEMENT_KIND
    data["id"] = agreement_id
    data["consumer"] = CommentedMap(product=consumer_product, inputPort=input_port)
    data["provider"] = CommentedMap(port=provider_port)
    data["purpose"] = purpose.strip()
    data["start"] = start
    if end is not None:
        data["end"] = end
    data["requestedBy"] = requested_by or product.team.owners[0]
    data.yaml_set_start_comment(
        f"Usage agreement: {consumer_product} asks {view.team(port.product.domain_name)} to read {provider_port}.\n"
        f"Access: {st.access_mode(port)}"
        + (
            ""
            if st.access_mode(port) == st.OPEN
            else f"; in force once approved in domains/{port.product.domain_name}/agreements/{ag.APPROVALS_FILE}."
        )
    )
    file = ag.agreements_dir(product.dir.parent.parent) / f"{ag.file_stem(agreement_id)}.yaml"
    yaml_edit.write(file, data)
    return file


def approve(view: MeshLifecycle, agreement_id: str, approved_by: str | None, on: date) -> Path:
    agreement = _agreement(view, agreement_id)
    if agreement.approvals:
        approval = agreement.approvals[0]
        raise AgreementError(
            f"{agreement_id} is approved already ({approval.doc.file}:{approval.doc.line_of(approval.where)})"
        )
    port = view.port(agreement.provider_port)
    if port is None:
        raise AgreementError(f"no output port {agreement.provider_port!r} in the mesh")
    domain = view.domains[port.product.domain_name]
    file = ag.agreements_dir(domain.dir) / ag.APPROVALS_FILE
    data = yaml_edit.load(file) if file.exists() else _new_approvals(domain.name)
    if data.get("approvals") is None:
        data["approvals"] = CommentedSeq()
    entry = CommentedMap()
    entry["agreement"] = agreement_id
    entry["port"] = agreement.provider_port
    entry["approvedBy"] = approved_by or domain.spec.team.owners[0]
    entry["approvedOn"] = on
    data["approvals"].append(entry)
    yaml_edit.write(file, data)
    return file


def terminate(
    view: MeshLifecycle, agreement_id: str, by: str, on: date, reason: str | None = None
) -> tuple[Path, date | None]:
    """Give notice; returns the file written and the day the agreement stops holding."""
    agreement = _agreement(view, agreement_id)
    termination = CommentedMap()
    termination["noticeGiven"] = on
    termination["by"] = by
    if reason:
        termination["reason"] = reason
    if by == "consumer":
        file = agreement.file
        with yaml_edit.editing(file) as data:
            data["terminated"] = termination
    else:
        if not agreement.approvals:
            raise AgreementError(
                f"{agreement_id} was never approved: the provider declines by not approving it; "
                "the consumer withdraws it with --by consumer"
            )
        approval = agreement.approvals[0]
        file = approval.doc.file
        with yaml_edit.editing(file) as data:
            data["approvals"][approval.index]["terminated"] = termination
    port = view.port(agreement.provider_port)
    reloaded = MeshLifecycle.load(view.mesh.root).agreement(agreement_id)
    return file, reloaded.ends_on(st.notice_period(port) if port else None) if reloaded else None


def _agreement(view: MeshLifecycle, agreement_id: str) -> ag.Agreement:
    agreement = view.agreement(agreement_id)
    if agreement is None:
        known = ", ".join(sorted(a.id for a in view.agreements)) or "none"
        raise AgreementError(f"no agreement {agreement_id!r} (agreements: {known})")
    return agreement


def _new_approvals(domain: str) -> CommentedMap:
    data = CommentedMap()
    data["apiVersion"] = ag.API_VERSION
    data["kind"] = ag.APPROVALS_KIND
    data["domain"] = domain
    data["approvals"] = CommentedSeq()
    data.yaml_set_start_comment(
        f"Usage agreements the {domain} team approved for its output ports.\n"
        "Merged by this domain's owners; see docs/lifecycle-and-agreements.md."
    )
    return data
