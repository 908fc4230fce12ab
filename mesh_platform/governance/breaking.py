"""The breaking-change gate: every output port's contract in the working tree against the same
port at a git base ref (and against the schema of its live published snapshot), with the
consumers each change would break.

A port keeps its address for as long as it is published, so a breaking change to a port in
place always fails. The way through is a new major version published beside the old one
(`<port>_v<N>`, contract `<port-with-dashes>-v<N>`; see docs/governance.md), with the old port deprecated
until its sunset date; consumers move by changing their input port. A port may be removed once
it is deprecated and its sunset date has passed.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from mesh_platform import settings
from mesh_platform.governance import types
from mesh_platform.governance.diff import BREAKING, INFO, NON_BREAKING, Change, diff_contract
from mesh_platform.governance.naming_scheme import port_base_and_major, sunset_of
from mesh_platform.mesh import Mesh, PortAddress
from mesh_platform.mesh.column_reads import relation_reads
from mesh_platform.published_layout import live_location, port_dir
from mesh_platform.specs.errors import Problem, SpecError, Subject


class ConsumersUnknown(LookupError):
    """The consumers of a port with a breaking change cannot be determined: never report
    "no consumers" for a mesh we could not read."""


@dataclass
class ConsumerImpact:
    domain: str
    product: str | None
    input_port: str | None
    team: str | None
    reader: str  # "source <source>.<table>", "ref <model>" or "python <table>"
    file: Path
    line: int | None
    reads: dict[str, str] = field(default_factory=dict)  # column -> reads | does not read | unknown

    def as_dict(self) -> dict:
        return {
            "domain": self.domain,
            "product": self.product,
            "input_port": self.input_port,
            "team": self.team,
            "reader": self.reader,
            "file": str(self.file),
            "line": self.line,
            "columns": self.reads,
        }


@dataclass
class PortReport:
    address: str
    status: str  # changed | removed | added | unchanged
    base_contract: str | None
    contract: str | None
    changes: list[Change] = field(default_factory=list)
    consumers: list[ConsumerImpact] = field(default_factory=list)
    allowed: str | None = None  # why a breaking change passes (a removal past its sunset)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.kind == BREAKING]

    @property
    def fails(self) -> bool:
        return bool(self.breaking) and self.allowed is None

    def problems(self) -> list[Problem]:
        """What the gate reports: each breaking change, an error unless the change is allowed."""
        address = PortAddress.parse(self.address)
        subject = Subject(address.domain, address.product, address.port)
        severity = "error" if self.allowed is None else "warning"
        return [
            Problem(c.file, c.line, c.column or "", c.message, "breaking.change", severity, subject)
            for c in self.breaking
        ]

    def as_dict(self) -> dict:
        return {
            "port": self.address,
            "status": self.status,
            "base_contract": self.base_contract,
            "contract": self.contract,
            "fails": self.fails,
            "allowed": self.allowed,
            "changes": [
                {
                    "kind": c.kind,
                    "what": c.what,
                    "column": c.column,
                    "message": c.message,
                    "file": str(c.file) if c.file else None,
                    "line": c.line,
                }
                for c in self.changes
            ],
            "consumers": [c.as_dict() for c in self.consumers],
            "problems": [p.as_dict() for p in self.problems()],
        }


@dataclass
class GateReport:
    base: str
    ports: list[PortReport]

    @property
    def passed(self) -> bool:
        return not any(p.fails for p in self.ports)


def checkout_base(ref: str, root: Path, into: Path) -> Path:
    """The repository's domains/ and dbt_projects/ at `ref`, extracted under `into`."""
    try:
        blob = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref, "--", "domains"], check=True, capture_output=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise LookupError(f"cannot read domains/ at git ref {ref!r}: {exc.stderr.decode().strip()}") from None
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "domains"


def gate(
    base_ref: str,
    mesh: Mesh | None = None,
    root: Path | None = None,
    today: date | None = None,
    snapshots: bool = True,
    prepare: Callable[[Mesh, str], None] | None = None,
) -> GateReport:
    """`prepare(mesh, domain)` brings a domain's dbt manifest up to date (`dbt parse`); it is
    called for every domain once a breaking change needs its consumers. Without it the
    manifests on disk are used, and a domain without one fails the gate (ConsumersUnknown)."""
    root = Path(root or settings.repo_root())
    mesh = mesh or Mesh.load()
    today = today or date.today()
    with tempfile.TemporaryDirectory(prefix="mesh-base-") as tmp:
        base = Mesh.load(checkout_base(base_ref, root, Path(tmp)))
        reports = _compare(base, mesh, today)
    if snapshots:
        for report in reports:
            if report.status != "removed":
                report.changes += _snapshot_changes(mesh, report)
                if report.breaking and report.status == "unchanged":
                    report.status = "changed"
    if any(report.breaking for report in reports):
        readable(mesh, prepare)
    for report in reports:
        if report.breaking:
            report.consumers = consumers(mesh, report)
    return GateReport(base_ref, reports)


def readable(mesh: Mesh, prepare: Callable[[Mesh, str], None] | None = None) -> None:
    """Make sure every domain's reads can be seen (any domain may read any port): it loads, its
    dbt manifest exists (parsed by `prepare` when given) and its Python tables import.
    Raises ConsumersUnknown naming each domain that cannot be read and why."""
    unknown = []
    for name in mesh.names:
        problems = mesh.problems_of(name)
        if problems:
            unknown.append(f"domain {name!r} does not load: {SpecError(problems)}")
            continue
        if prepare is not None:
            try:
                prepare(mesh, name)
            except Exception as exc:  # noqa: BLE001 - dbt's own message names the file
                unknown.append(
                    f"domain {name!r}: `dbt parse` of {mesh.domain(name).dbt_project_dir} failed: {str(exc).strip()}"
                )
                continue
            mesh.forget_manifest(name)
        if mesh.manifest(name) is None:
            unknown.append(
                f"domain {name!r} has no dbt manifest ({mesh.manifest_path(name)}), so which of its "
                "dbt sources read which port is unknown: run `mesh prepare`, or `mesh breaking` "
                "without --no-prepare"
            )
            continue
        try:
            mesh.reads_of(name)
        except SpecError as exc:
            unknown.append(f"domain {name!r}: its Python tables do not import: {exc}")
    if unknown:
        raise ConsumersUnknown(
            "cannot determine the consumers of the ports with breaking changes:\n  " + "\n  ".join(unknown)
        )


def _compare(base: Mesh, mesh: Mesh, today: date) -> list[PortReport]:
    reports = []
    current = {p.address: p for p in mesh.ports}
    for old in base.ports:
        new = current.get(old.address)
        if new is None:
            product_gone = mesh.product(old.product.domain_name, old.product.name) is None
            what = "product removed" if product_gone else "port removed"
            report = PortReport(
                old.address,
                "removed",
                old.contract.id,
                None,
                [
                    Change(
                        BREAKING,
                        what,
                        f"{'product ' + old.product.spec.id if product_gone else 'output port ' + old.address} "
                        f"removed (was contract {old.contract.id} {old.contract.version})",
                        None,
                        old.product.file,
                        old.product.doc.line_of(("outputPorts", old.index)),
                    )
                ],
            )
            sunset = sunset_of(old)
            if (old.contract.model.status or "").lower() == "deprecated" and sunset and sunset <= today:
                report.allowed = f"deprecated, sunset {sunset.isoformat()} has passed"
            reports.append(report)
            continue
        changes = diff_contract(old.contract, new.contract, new.model, old.model)
        status = "changed" if any(c.kind != INFO for c in changes) else "unchanged"
        reports.append(PortReport(old.address, status, old.contract.id, new.contract.id, changes))
    base_addresses = {p.address for p in base.ports}
    for address, port in current.items():
        if address in base_addresses:
            continue
        base_name, major = port_base_and_major(port.name)
        beside = str(port.product.address.port(base_name))
        note = f"new major version {major} beside {beside}" if major and beside in base_addresses else "new output port"
        reports.append(
            PortReport(
                address,
                "added",
                None,
                port.contract.id,
                [
                    Change(
                        NON_BREAKING,
                        "port added",
                        f"{note} (contract {port.contract.id} {port.contract.version})",
                        None,
                        port.product.file,
                        port.product.doc.line_of(("outputPorts", port.index)),
                    )
                ],
            )
        )
    return reports


def _snapshot_changes(mesh: Mesh, report: PortReport) -> list[Change]:
    """The live snapshot is what consumers read today: a column it has that the contract drops,
    or a type that does not widen, breaks them even if the base ref already lacked it."""
    port = mesh.port(report.address)
    path = live_location(port_dir(PortAddress.parse(report.address)))
    if port is None or path is None:
        return []
    con = duckdb.connect()
    try:
        live = {
            row[0]: row[1]
            for row in con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", [path]
            ).fetchall()
        }
    finally:
        con.close()
    seen = {(c.what, c.column) for c in report.changes}
    props = {p.physicalName or p.name: p for p in port.schema.properties or []}
    out = []
    for column, type_ in live.items():
        if column not in props:
            if ("column removed", column) not in seen and ("column renamed", column) not in seen:
                out.append(
                    Change(
                        BREAKING,
                        "column removed",
                        f"column {column!r} is in the live snapshot ({path}) but not in the contract",
                        column,
                        port.contract.file,
                        port.contract.doc.line_of(("schema", port.contract.schema_index(port.model), "properties")),
                    )
                )
            continue
        prop = props[column]
        if (
            prop.physicalType
            and types.parse(prop.physicalType) is not None
            and not types.widens({"physicalType": type_}, {"physicalType": prop.physicalType})
        ):
            if ("type changed", column) not in seen:
                out.append(
                    Change(
                        BREAKING,
                        "type changed",
                        f"column {column!r}: the live snapshot has {type_}, "
                        f"the contract {prop.physicalType} (does not widen)",
                        column,
                        port.contract.file,
                        None,
                    )
                )
    return out


def consumers(mesh: Mesh, report: PortReport) -> list[ConsumerImpact]:
    """Every consumer of the port, and for each removed or changed column whether it reads it."""
    address = PortAddress.parse(report.address)
    columns = sorted({c.column for c in report.breaking if c.column})
    base_columns = list(columns)
    port = mesh.port(address)
    if port is not None:
        base_columns = sorted({*columns, *(p.physicalName or p.name for p in port.schema.properties or [])})
    out = []
    for edge in mesh.consumers_of(address):
        product = mesh.product(edge.consumer_domain, edge.consumer_product) if edge.consumer_product else None
        impact = ConsumerImpact(
            edge.consumer_domain,
            edge.consumer_product,
            edge.input_port,
            product.team.name if product else None,
            edge.reader,
            edge.file,
            edge.line,
        )
        if edge.relation is not None:
            # the columns the gate asks about include removed ones, which the port no longer lists
            uses = relation_reads(mesh.domain(edge.consumer_domain).dbt_project_dir, edge.relation, base_columns)
            for column in columns:
                if any(u.columns is None or column in u.columns for u in uses):
                    models = [u.model for u in uses if u.columns is None or column in u.columns]
                    impact.reads[column] = f"reads ({', '.join(models)})"
                else:
                    impact.reads[column] = "does not read"
        else:
            impact.reads = {c: "unknown (Python table)" for c in columns}
        out.append(impact)
    return out
