"""Every port has a primary key, and its columns are required (not null)."""

from __future__ import annotations

from mesh_platform.governance.policies.where import column_problem, columns, port_problem
from mesh_platform.governance.registry import Policy, register


@register
class PrimaryKey(Policy):
    name = "primary-key"
    description = "every output port's schema declares a primary key (primaryKey on one or more columns)"

    def check_port(self, ctx, port):
        if not any(p.primaryKey for _, p, _ in columns(port)):
            yield port_problem(
                port,
                f"port {port.address} declares no primary key: mark its key column(s) "
                "primaryKey: true (primaryKeyPosition for a composite key)",
                "properties",
                rule="policy.primary_key_missing",
            )


@register
class KeyNotNull(Policy):
    name = "key-not-null"
    description = "primary-key columns are `required: true` (a not-null check)"

    def check_port(self, ctx, port):
        for i, prop, name in columns(port):
            if prop.primaryKey and not prop.required:
                yield column_problem(
                    port,
                    i,
                    f"primary-key column {name!r} is not `required: true`",
                    "primaryKey",
                    rule="policy.key_nullable",
                )
