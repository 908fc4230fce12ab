"""The Problems policies report, at file:line of the parts of a port they talk about.

A policy's problem names its subject (domain, product, port) for exemptions, and no field: the
line points at it, and the message reads as it always has in `mesh lint`.
"""

from __future__ import annotations

from pathlib import Path

from mesh_platform.specs.errors import Problem, Subject


def problem_at(file: Path, line: int | None, message: str, rule: str, subject: Subject) -> Problem:
    return Problem(file, line, "", message, rule, subject=subject)


def port_problem(port, message: str, *path, rule: str) -> Problem:
    """A problem in the port's contract, at `path` under the port's schema object (or the
    contract's top level when the path starts with a top-level field)."""
    contract = port.contract
    if path and path[0] in (
        "slaProperties",
        "team",
        "support",
        "id",
        "version",
        "apiVersion",
        "description",
        "customProperties",
        "status",
        "price",
    ):
        full = tuple(path)
    else:
        index = contract.schema_index(port.model)
        if index is None:
            index = contract.schema_index(port.name)
        full = ("schema", index, *path)
    return problem_at(contract.file, contract.doc.line_of(full), message, rule, port_subject(port))


def column_problem(port, column_index: int, message: str, *path, rule: str) -> Problem:
    return port_problem(port, message, "properties", column_index, *path, rule=rule)


def product_problem(product, message: str, *path, rule: str) -> Problem:
    subject = Subject(product.domain_name, product.name)
    return problem_at(product.file, product.doc.line_of(tuple(path)), message, rule, subject)


def descriptor_port_problem(port, message: str, *path, rule: str) -> Problem:
    product = port.product
    line = product.doc.line_of(("outputPorts", port.index, *path))
    return problem_at(product.file, line, message, rule, port_subject(port))


def port_subject(port) -> Subject:
    return Subject(port.product.domain_name, port.product.name, port.name)


def columns(port):
    """(index, property, column name) of the port's schema object."""
    return [(i, p, p.physicalName or p.name) for i, p in enumerate(port.schema.properties or [])]
