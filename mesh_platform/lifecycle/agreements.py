"""Usage agreements: governance by pull request between a consumer and a provider team.

The consumer asks, in its own domain folder (`domains/<consumer>/agreements/<name>.yaml`):

    apiVersion: v1.0.0
    kind: DataUsageAgreement
    id: <consumer domain>.<consumer product>.<input port>
    consumer: {product: <domain>.<product>, inputPort: <input port name>}
    provider: {port: <domain>.<product>.<port>}
    purpose: why the consumer reads this port, in a sentence the provider can judge
    start: 2026-01-05
    end: 2027-01-04            # optional
    requestedBy: someone@example.com
    terminated: {noticeGiven: 2026-06-01, by: consumer, reason: ...}   # optional

The provider answers in its own folder (`domains/<provider>/agreements/approvals.yaml`), so
each team's owners review the file in their folder:

    apiVersion: v1.0.0
    kind: DataUsageApprovals
    domain: <provider domain>
    approvals:
      - {agreement: <id>, port: <domain>.<product>.<port>, approvedBy: ..., approvedOn: 2026-01-06}
      # and, to end it: terminated: {noticeGiven: 2026-06-01, reason: ...}

An agreement is in force from `start` (and approval, unless the port is `open`) until `end`
or until a termination takes effect: the notice date plus the provider contract's
noticePeriod. Either side may give notice; the notice period protects the consumer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from mesh_platform.lifecycle.dates import add_period, parse_date
from mesh_platform.specs.errors import Problem, SpecError
from mesh_platform.specs.identifiers import NAME as _NAME
from mesh_platform.specs.identifiers import PORT_ADDRESS
from mesh_platform.specs.validation import validate_model
from mesh_platform.specs.yaml_source import YamlDocument, load_yaml

API_VERSION = "v1.0.0"
AGREEMENT_KIND, APPROVALS_KIND = "DataUsageAgreement", "DataUsageApprovals"
APPROVALS_FILE = "approvals.yaml"
PRODUCT_ADDRESS = rf"^{_NAME}\.{_NAME}$"


def _sane_date(value: date) -> date:
    """Agreement dates are calendar days a notice period is added to: 1970 to 2100."""
    return parse_date(value)


Day = Annotated[date, AfterValidator(_sane_date)]

ACTIVE, PENDING, NOT_STARTED, ENDED, TERMINATED = "active", "pending", "not started", "ended", "terminated"


class Termination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    noticeGiven: Day
    by: Literal["consumer", "provider"] = "provider"
    reason: str | None = None


class ConsumerSide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str = Field(pattern=PRODUCT_ADDRESS)
    inputPort: str = Field(pattern=rf"^{_NAME}$")


class ProviderSide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: str = Field(pattern=PORT_ADDRESS)


class AgreementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apiVersion: Literal["v1.0.0"]
    kind: Literal["DataUsageAgreement"]
    id: str = Field(pattern=rf"^{_NAME}(\.{_NAME})*$")
    consumer: ConsumerSide
    provider: ProviderSide
    purpose: str = Field(min_length=10)
    start: Day
    end: Day | None = None
    requestedBy: str | None = None
    terminated: Termination | None = None

    @field_validator("end")
    @classmethod
    def _after_start(cls, end, info):
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(f"the end {end} is before the start {start}")
        return end


class ApprovalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agreement: str
    port: str = Field(pattern=PORT_ADDRESS)
    approvedBy: str
    approvedOn: Day
    terminated: Termination | None = None


class ApprovalsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apiVersion: Literal["v1.0.0"]
    kind: Literal["DataUsageApprovals"]
    domain: str
    approvals: list[ApprovalSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class Approval:
    doc: YamlDocument
    index: int
    spec: ApprovalSpec

    @property
    def where(self) -> tuple:
        return ("approvals", self.index)


@dataclass
class Agreement:
    doc: YamlDocument
    spec: AgreementSpec
    domain: str  # the consumer domain whose folder holds the file
    approvals: list[Approval] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def file(self) -> Path:
        return self.doc.file

    @property
    def consumer_product(self) -> str:
        return self.spec.consumer.product

    @property
    def input_port(self) -> str:
        return self.spec.consumer.inputPort

    @property
    def provider_port(self) -> str:
        return self.spec.provider.port

    @property
    def provider_domain(self) -> str:
        return self.provider_port.split(".")[0]

    @property
    def approval(self) -> Approval | None:
        return self.approvals[0] if self.approvals else None

    def termination(self) -> tuple[Termination, YamlDocument, tuple] | None:
        """The earliest notice given by either side, with where it is written."""
        found = []
        if self.spec.terminated:
            found.append((self.spec.terminated, self.doc, ("terminated",)))
        for approval in self.approvals:
            if approval.spec.terminated:
                found.append((approval.spec.terminated, approval.doc, (*approval.where, "terminated")))
        return min(found, key=lambda t: t[0].noticeGiven) if found else None

    def ends_on(self, notice_period: str | None) -> date | None:
        """The first day the agreement no longer holds: its end, or a termination's effect."""
        ends = []
        if self.spec.end is not None:
            from datetime import timedelta

            ends.append(self.spec.end + timedelta(days=1))
        termination = self.termination()
        if termination is not None:
            notice = termination[0].noticeGiven
            ends.append(add_period(notice, notice_period) if notice_period else notice)
        return min(ends) if ends else None

    def status(self, today: date, open_access: bool, notice_period: str | None) -> str:
        """active, pending (approval), not started, ended (past `end`) or terminated (notice ran out)."""
        ends = self.ends_on(notice_period)
        if ends is not None and today >= ends:
            ended_by_end = self.spec.end is not None and ends > self.spec.end
            return ENDED if ended_by_end else TERMINATED
        if today < self.spec.start:
            return NOT_STARTED
        if not open_access and self.approval is None:
            return PENDING
        return ACTIVE


def agreements_dir(domain_dir: Path) -> Path:
    return Path(domain_dir) / "agreements"


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
                    if approval.port.split(".")[0] != domain_dir.name:
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
                if spec.consumer.product.split(".")[0] != domain_dir.name:
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


def agreement_id(consumer_product: str, input_port: str) -> str:
    return f"{consumer_product}.{input_port}"


def file_stem(agreement_id_: str) -> str:
    return re.sub(r"^[a-z0-9_]+\.", "", agreement_id_).replace(".", "__")
