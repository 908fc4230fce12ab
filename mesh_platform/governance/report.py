"""Render lint and breaking-change reports: a table for people, JSON for tools, JUnit for CI,
Markdown for a pull-request comment."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

from rich.console import Console
from rich.table import Table

from mesh_platform.governance.breaking import GateReport
from mesh_platform.governance.model import LintReport
from mesh_platform.mesh.address import scope


def _console():
    # Messages quote file contents: printed as they are, never read as markup.
    return Console(
        width=220, record=True, file=io.StringIO(), force_terminal=False, markup=False, emoji=False, highlight=False
    )


# ------------------------------------------------------------------------------ lint
def lint_table(report: LintReport) -> str:
    console = _console()
    if report.violations:
        table = Table(title="mesh lint", show_lines=False)
        for column in ("severity", "policy", "subject", "where", "message"):
            table.add_column(column, overflow="fold")
        for v in report.violations:
            severity = f"{v.severity} (exempt)" if v.exempted_by else v.severity
            message = v.message + (f" [exception: {v.exempted_by.describe()}]" if v.exempted_by else "")
            table.add_row(severity, v.policy, v.subject, v.where, message)
        console.print(table)
    ports = Table(title="policies per output port")
    for column in ("port", "policies", "failing"):
        ports.add_column(column, overflow="fold")
    for address, status in report.ports.items():
        ports.add_row(address, status.summary(), ", ".join(status.failing()) or "-")
    console.print(ports)
    for e in report.expired_exceptions:
        console.print(f"expired exception (no longer applies): {e.describe()}")
    console.print(
        f"{len(report.in_force)} policies in force: {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings, {len(report.exempted)} exempted"
    )
    return console.export_text().rstrip()


def lint_json(report: LintReport) -> str:
    return json.dumps(
        {
            "policies": report.in_force,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "exempted": len(report.exempted),
            "violations": [v.as_dict() for v in report.violations],
            "ports": {a: {"policies": s.summary(), "failing": s.failing()} for a, s in report.ports.items()},
            "expired_exceptions": [e.describe() for e in report.expired_exceptions],
        },
        indent=2,
    )


def lint_junit(report: LintReport) -> str:
    """One test case per (policy, port): an error-severity violation is a <failure>; a warning
    passes with its message in <system-out> (matching the exit status)."""
    suites = ET.Element("testsuites", name="mesh lint")
    for address, status in report.ports.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=address,
            tests=str(len(status.in_force)),
            failures=str(len({v.policy for v in status.violations if v.blocking})),
            errors="0",
        )
        for policy in status.in_force:
            case = ET.SubElement(suite, "testcase", classname=address, name=policy)
            found = [v for v in status.violations if v.policy == policy]
            blocking = [v for v in found if v.blocking]
            if blocking:
                failure = ET.SubElement(case, "failure", message=blocking[0].message[:500], type=policy)
                failure.text = "\n".join(f"{v.where}: {v.message}" for v in blocking)
            elif found:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{'EXEMPT' if v.exempted_by else v.severity.upper()} {v.where}: {v.message}" for v in found
                )
    unattached = [v for v in report.violations if not any(v in s.violations for s in report.ports.values())]
    if unattached:  # domains that do not load have no ports to attach to
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="domains",
            tests=str(len(unattached)),
            failures=str(sum(v.blocking for v in unattached)),
            errors="0",
        )
        for v in unattached:
            case = ET.SubElement(suite, "testcase", classname=v.subject, name=v.policy)
            if v.blocking:
                ET.SubElement(case, "failure", message=v.message[:500], type=v.policy).text = f"{v.where}: {v.message}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


# ------------------------------------------------------------------------------ breaking
def _changed(report: GateReport):
    return [p for p in report.ports if p.status != "unchanged" or p.changes]


def gate_table(report: GateReport) -> str:
    console = _console()
    table = Table(title=f"mesh breaking --base {report.base}")
    for column in ("port", "kind", "change", "where"):
        table.add_column(column, overflow="fold")
    for port in _changed(report):
        for change in port.changes:
            table.add_row(port.address, change.kind, change.message, change.where)
    console.print(table)
    for port in report.ports:
        if not port.breaking:
            continue
        verdict = f"allowed: {port.allowed}" if port.allowed else "FAILS"
        console.print(f"{port.address}: {len(port.breaking)} breaking change(s), {verdict}")
        for c in port.consumers:
            cols = "; ".join(f"{col}: {how}" for col, how in c.reads.items())
            via = f"input port {c.input_port}" if c.input_port else "same domain"
            console.print(
                f"  consumer {scope(c.domain, c.product)} {via} (team {c.team}) "
                f"via {c.reader} at {c.file}:{c.line}" + (f" — {cols}" if cols else "")
            )
        if not port.consumers:
            console.print("  no consumers")
    console.print("PASSED" if report.passed else _advice(report))
    return console.export_text().rstrip()


def _advice(report: GateReport) -> str:
    return (
        "FAILED: a breaking change needs a new major version published beside the old port "
        "(<port>_v<N> with contract <port-with-dashes>-v<N>), the old port deprecated until its sunset date"
    )


def gate_json(report: GateReport) -> str:
    return json.dumps(
        {"base": report.base, "passed": report.passed, "ports": [p.as_dict() for p in _changed(report)]}, indent=2
    )


def gate_markdown(report: GateReport) -> str:
    lines = [f"### Breaking-change gate against `{report.base}`: {'✅ passed' if report.passed else '❌ failed'}", ""]
    changed = _changed(report)
    if not changed:
        return "\n".join(lines + ["No contract changes."])
    lines += ["| port | kind | change | where |", "|---|---|---|---|"]
    for port in changed:
        for c in port.changes:
            message = c.message.replace("|", "\\|")
            lines.append(f"| `{port.address}` | {c.kind} | {message} | `{c.where}` |")
    for port in report.ports:
        if not port.breaking:
            continue
        lines += [
            "",
            f"**{port.address}** — {len(port.breaking)} breaking change(s), "
            f"{'allowed: ' + port.allowed if port.allowed else 'blocks the merge'}",
        ]
        if port.consumers:
            lines += ["", "| consumer | input port | team | reads |", "|---|---|---|---|"]
            for c in port.consumers:
                reads = "; ".join(f"`{col}`: {how}" for col, how in c.reads.items()) or "-"
                via = f"`{c.input_port}`" if c.input_port else f"same domain ({c.reader})"
                lines.append(f"| {scope(c.domain, c.product)} | {via} | {c.team} | {reads} |")
        else:
            lines.append("No consumers.")
    if not report.passed:
        lines += ["", _advice(report)]
    return "\n".join(lines)
