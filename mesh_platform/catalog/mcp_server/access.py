"""`request_access`: the one MCP tool that writes, and only what `mesh agreement request` writes.

The request file is written by the same function as the CLI's (lifecycle/agreement_files.py),
into `domains/<consumer>/agreements/` and nowhere else, then read back through the mesh's own
agreement validation; a file the mesh would refuse is removed again. Nothing is approved and
nothing is committed: the answer, read from the catalog rebuilt with the request in it, says
what the provider team must do.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

from mesh_platform import settings
from mesh_platform.catalog.mcp_server.answers import BadArgument, identifier, port_of
from mesh_platform.catalog.model import Catalog
from mesh_platform.lifecycle import agreements as ag
from mesh_platform.lifecycle.agreement_files import AgreementError, request
from mesh_platform.lifecycle.dates import today
from mesh_platform.lifecycle.rules import MeshLifecycle
from mesh_platform.lifecycle.states import OPEN
from mesh_platform.safe_paths import PathEscape, inside

_writing = threading.Lock()  # tools run in worker threads: one request at a time


def write_request(port: str, consumer_product: str, purpose: str) -> tuple[Path, str]:
    """The request file written and validated, and its agreement id; BadArgument when refused."""
    identifier(port, "port")
    identifier(consumer_product, "consumer_product")
    if not purpose or not purpose.strip():
        raise BadArgument("purpose is empty: say in a sentence what the consumer will use the data for")
    consumer_domain = consumer_product.split(".")[0]
    with _writing:
        mesh = MeshLifecycle.load()  # as `mesh agreement request` loads it (cli/lifecycle_cmd.py)
        domain = mesh.domains.get(consumer_domain)
        if domain is None:
            raise BadArgument(f"no domain {consumer_domain!r} in the mesh (consumer_product is <domain>.<product>)")
        try:
            folder = inside(settings.domains_dir(), consumer_domain, "agreements")
            file = request(mesh, consumer_product, port, purpose, today())
        except (AgreementError, PathEscape) as exc:
            raise BadArgument(str(exc).replace("--purpose", "purpose")) from None
        return file, _check_written(file, folder, domain.dir)


def _check_written(file: Path, folder: Path, domain_dir: Path) -> str:
    """The file is in the consumer's agreements folder and passes the mesh's own validation:
    its agreement id, or BadArgument with the file removed."""
    if file.resolve().parent != folder.resolve():
        file.unlink(missing_ok=True)
        raise BadArgument(f"refusing {file}: agreement requests are written in {folder} only")
    agreements, _, problems = ag.load_agreements(domain_dir)
    mine = [p for p in problems if Path(p.file).resolve() == file.resolve()]
    if mine:
        file.unlink(missing_ok=True)
        raise BadArgument("the request does not validate: " + "; ".join(str(p) for p in mine))
    return next(a.id for a in agreements if a.file.resolve() == file.resolve())


def requested(catalog: Catalog, file: Path, agreement_id: str, port: str, consumer_product: str) -> dict:
    """What was written and what happens next, from the catalog that now lists the request."""
    provider, provider_port = port_of(catalog, port)
    edge = next(
        (e for e in catalog.edges if e.kind == "agreement" and (e.consumer, e.port) == (consumer_product, port)), None
    )
    life = provider_port.lifecycle
    access = life.access if life else "unknown"
    approvals = settings.repo_relative(ag.agreements_dir(settings.domains_dir() / provider.domain) / ag.APPROVALS_FILE)
    if access == OPEN:
        step = f"none: {port} is open, so the agreement is in force from its start once the request is merged"
    else:
        step = (
            f"{provider.owner_team} ({', '.join(provider.owners)}) approves it: `mesh agreement approve "
            f"{agreement_id}` adds the approval to {approvals}, merged by the {provider.domain} domain's owners"
        )
    steps = [f"open a pull request with {settings.repo_relative(file)} (nothing was committed)"]
    consumer = catalog.get(consumer_product)
    if consumer is not None and port not in consumer.inputs:
        steps.append(f"declare an input port reading {port} in {consumer.descriptor}")
    return {
        "path": settings.repo_relative(file),
        "agreement_id": agreement_id,
        "status": edge.agreement_status if edge else "unknown",
        "access": access,
        "provider_approval_step": step,
        "provider_port_lifecycle": asdict(life) if life else None,
        "consumer_next_steps": steps,
        "approved": False,
        "committed": False,
    }
