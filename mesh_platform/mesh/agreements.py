"""Every usage agreement of the mesh: each domain's requests (as consumer) and approvals (as
provider) read from its `agreements/` folder, each approval linked to its agreement.

The files' model is specs/agreements.py; the rules that judge agreements are in lifecycle/.
"""

from __future__ import annotations

from pathlib import Path

from mesh_platform.mesh.address import PortAddress, ProductAddress
from mesh_platform.specs.agreements import (
    APPROVALS_FILE,
    Agreement,
    AgreementSpec,
    Approval,
    ApprovalsSpec,
    agreements_dir,
)
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.validation import validate_model
from mesh_platform.specs.yaml_source import load_yaml


def load_mesh_agreements(folders: dict[str, Path]) -> tuple[list[Agreement], list[Problem]]:
    """The agreements of every domain folder, approvals linked, with the problems of their files."""
    agreements: list[Agreement] = []
    approvals: list[Approval] = []
    problems: list[Problem] = []
    for name in sorted(folders):
        found, approved, found_problems = load_agreements(folders[name])
        agreements += found
        approvals += approved
        problems += found_problems
    problems += link_approvals(agreements, approvals)
    return agreements, problems


def load_agreements(domain_dir: Path) -> tuple[list[Agreement], list[Approval], list[Problem]]:
    """A domain's agreement requests (as consumer) and approvals (as provider), with problems."""
    domain_dir = Path(domain_dir)
    agreements: list[Agreement] = []
    approvals: list[Approval] = []
    problems: list[Problem] = []
    folder = agreements_dir(domain_dir)
    for file in sorted(folder.glob("*.y*ml")) if folder.exists() else []:
        try:
            doc = load_yaml(file)
            if file.name == APPROVALS_FILE:
                spec = validate_model(doc, ApprovalsSpec)
                if spec.domain != domain_dir.name:
                    problems.append(
                        doc.problem(
                            ("domain",),
                            f"expected {domain_dir.name!r} (the folder it is in)",
                            rule="agreement.wrong_folder",
                        )
                    )
                    continue
                for i, approval in enumerate(spec.approvals):
                    if PortAddress.parse(approval.port).domain != domain_dir.name:
                        problems.append(
                            doc.problem(
                                ("approvals", i, "port"),
                                f"{approval.port!r} is not a port of domain {domain_dir.name!r}: "
                                "a team approves agreements for its own ports only",
                                rule="agreement.wrong_folder",
                            )
                        )
                        continue
                    approvals.append(Approval(doc=doc, index=i, spec=approval))
            else:
                spec = validate_model(doc, AgreementSpec)
                if ProductAddress.parse(spec.consumer.product).domain != domain_dir.name:
                    problems.append(
                        doc.problem(
                            ("consumer", "product"),
                            f"expected a product of domain {domain_dir.name!r}: a team asks "
                            "for agreements in its own folder",
                            rule="agreement.wrong_folder",
                        )
                    )
                    continue
                agreements.append(Agreement(doc=doc, spec=spec, domain=domain_dir.name))
        except SpecError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Agreement] = {}
    for agreement in agreements:
        if agreement.id in seen:
            problems.append(
                agreement.doc.problem(
                    ("id",),
                    f"agreement id {agreement.id!r} is also used by {seen[agreement.id].file}",
                    rule="agreement.duplicate_id",
                )
            )
        seen[agreement.id] = agreement
    return agreements, approvals, problems


def link_approvals(agreements: list[Agreement], approvals: list[Approval]) -> list[Problem]:
    """Attach each approval to its agreement; approving an agreement for another port is an error."""
    by_id = {a.id: a for a in agreements}
    problems = []
    for approval in approvals:
        agreement = by_id.get(approval.spec.agreement)
        if agreement is None:
            continue  # the consumer withdrew its request: the approval approves nothing
        if agreement.provider_port != approval.spec.port:
            problems.append(
                approval.doc.problem(
                    (*approval.where, "port"),
                    f"agreement {agreement.id!r} ({agreement.file}) is for {agreement.provider_port!r}, "
                    f"not {approval.spec.port!r}",
                    rule="agreement.wrong_port",
                )
            )
        else:
            agreement.approvals.append(approval)
    return problems
