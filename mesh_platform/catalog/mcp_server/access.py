"""`request_access`: the one MCP tool that writes, and only what `mesh agreement request` writes.

The request file is written by the same function as the CLI's (lifecycle/agreement_files.py),
into `domains/<consumer>/agreements/` and nowhere else, then read back through the mesh's own
agreement validation; a file the mesh would refuse is removed again. Nothing is approved and
nothing is committed: the answer says what the provider team must do.
"""

from __future__ import annotations

import threading
from pathlib import Path

from mesh_platform import settings
from mesh_platform.catalog.mcp_server.answers import BadArgument, identifier
from mesh_platform.lifecycle import agreements as ag
from mesh_platform.lifecycle import states as st
from mesh_platform.lifecycle.agreement_files import AgreementError, request
from mesh_platform.lifecycle.catalog import port_facts
from mesh_platform.lifecycle.dates import today
from mesh_platform.lifecycle.rules import MeshLifecycle
from mesh_platform.safe_paths import PathEscape, inside

_writing = threading.Lock()  # tools run in worker threads: one request at a time


def request_access(port: str, consumer_product: str, purpose: str) -> dict:
    identifier(port, "port")
    identifier(consumer_product, "consumer_product")
    if not purpose or not purpose.strip():
        raise BadArgument("purpose is empty: say in a sentence what the consumer will use the data for")
    consumer_domain = consumer_product.split(".")[0]
    with _writing:
        view = MeshLifecycle.load()
        domain = view.domains.get(consumer_domain)
        if domain is None:
            raise BadArgument(f"no domain {consumer_domain!r} in the mesh (consumer_product is <domain>.<product>)")
        try:
            folder = inside(settings.domains_dir(), consumer_domain, "agreements")
            file = request(view, consumer_product, port, purpose, today())
        except (AgreementError, PathEscape) as exc:
            raise BadArgument(str(exc).replace("--purpose", "purpose")) from None
        _check_written(file, folder, domain.dir)
    return _answer(file, port, consumer_product)


def _check_written(file: Path, folder: Path, domain_dir: Path) -> None:
    """The file is in the consumer's agreements folder and passes the mesh's own validation."""
    if file.resolve().parent != folder.resolve():
        file.unlink(missing_ok=True)
        raise BadArgument(f"refusing {file}: agreement requests are written in {folder} only")
    _, _, problems = ag.load_agreements(domain_dir)
    mine = [p for p in problems if Path(p.file).resolve() == file.resolve()]
    if mine:
        file.unlink(missing_ok=True)
        raise BadArgument("the request does not validate: " + "; ".join(str(p) for p in mine))


def _answer(file: Path, port: str, consumer_product: str) -> dict:
    view = MeshLifecycle.load()
    agreement = next(a for a in view.agreements if Path(a.file).resolve() == file.resolve())
    provider = view.port(port)
    provider_domain = provider.product.domain_name
    status = view.agreement_status(agreement, today())
    approvals = settings.repo_relative(provider.product.dir.parent.parent / "agreements" / ag.APPROVALS_FILE)
    if st.access_mode(provider) == st.OPEN:
        step = f"none: {port} is open, so the agreement is in force from its start once the request is merged"
    else:
        step = (
            f"{view.team(provider_domain)} approves it: `mesh agreement approve {agreement.id}` adds the approval "
            f"to {approvals}, merged by the {provider_domain} domain's owners"
        )
    consumer = view.product(consumer_product)
    steps = [f"open a pull request with {settings.repo_relative(file)} (nothing was committed)"]
    if consumer is not None and not any(p.source == port for p in consumer.spec.inputPorts):
        steps.append(f"declare an input port reading {port} in {settings.repo_relative(consumer.file)}")
    return {
        "path": settings.repo_relative(file),
        "agreement_id": agreement.id,
        "status": status,
        "access": st.access_mode(provider),
        "provider_approval_step": step,
        "provider_port": port_facts(provider, today()),
        "consumer_next_steps": steps,
        "approved": False,
        "committed": False,
    }
