"""The dbt model behind an output port is public and enforces a dbt model contract that matches
the ODCS schema: the same column names (order-insensitive) and the same types in each dialect.

The platform generates all of that from the contract (contracts/dbt_models.py), so these check
what dbt resolved (the manifest): a `{{ config(...) }}` in the model's SQL that overrides the
generated access or contract, or a manifest older than the contract."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mesh_platform.governance import types
from mesh_platform.governance.dbt_models import find_model
from mesh_platform.governance.policies.where import (
    column_problem,
    columns,
    descriptor_port_problem,
    port_problem,
    port_subject,
    problem_at,
)
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.errors import Problem


def _model(ctx, port):
    return find_model(ctx, port.product.domain_name, port.model)


def _at(port, where, message, rule: str) -> Problem:
    file, line = where
    return problem_at(file, line, message, rule, port_subject(port))


@register
class DbtModelPublic(Policy):
    name = "dbt-model-public"
    description = "the dbt model behind an output port has `access: public`"

    def check_port(self, ctx, port):
        model = _model(ctx, port)
        if model is None:
            yield descriptor_port_problem(
                port,
                f"no dbt model {port.model!r} in the domain's dbt project",
                "model",
                rule="policy.dbt_model_missing",
            )
            return
        if model.access != "public":
            yield _at(
                port,
                (model.file, model.line),
                f"dbt model {port.model!r} implements output port {port.address} "
                f"but has access {model.access!r}; do not override the generated `access: public` in its config",
                rule="policy.dbt_model_private",
            )


class ContractParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dialects: list[str] = Field(
        default_factory=lambda: ["duckdb"], description="SQL dialects whose types must agree (duckdb, bigquery)"
    )


@register
class DbtContractMatches(Policy):
    name = "dbt-contract-matches"
    description = "the port's dbt model enforces a model contract whose columns and types match the ODCS schema"
    Params = ContractParams

    def check_port(self, ctx, port):
        model = _model(ctx, port)
        if model is None:
            yield descriptor_port_problem(
                port,
                f"no dbt model {port.model!r} in the domain's dbt project",
                "model",
                rule="policy.dbt_model_missing",
            )
            return
        if not model.enforced:
            yield _at(
                port,
                (model.file, model.line),
                f"dbt model {port.model!r} does not enforce its contract; do not override the generated "
                "contract.enforced: true in its config",
                rule="policy.dbt_contract_unenforced",
            )
            return
        # Columns and types are generated from the contract: a difference is a stale manifest,
        # reported at the contract (the source of truth).
        odcs = {name: (i, prop) for i, prop, name in columns(port)}
        dbt = {str(c.get("name")): c for c in model.columns}
        stale = "; the manifest is older than the contract: run `mesh prepare`"
        for name in sorted(set(odcs) - set(dbt)):
            yield column_problem(
                port,
                odcs[name][0],
                f"dbt model {port.model!r} lacks column {name!r} of contract {port.contract.id!r}{stale}",
                rule="policy.dbt_columns",
            )
        for name in sorted(set(dbt) - set(odcs)):
            yield port_problem(
                port,
                f"dbt model {port.model!r} has column {name!r} that contract {port.contract.id!r} does not declare{stale}",
                "properties",
                rule="policy.dbt_columns",
            )
        for name in sorted(set(dbt) & set(odcs)):
            dbt_type, (i, prop) = dbt[name].get("data_type"), odcs[name]
            if not dbt_type:
                yield column_problem(
                    port,
                    i,
                    f"column {name!r} of dbt model {port.model!r} has no data_type{stale}",
                    rule="policy.dbt_column_type",
                )
                continue
            for dialect in self.params.dialects:
                if prop.physicalType:
                    same = types.same_type(str(dbt_type), prop.physicalType, dialect)
                    wanted = f"physicalType {prop.physicalType!r}"
                else:
                    same = types.matches_logical(str(dbt_type), prop.logicalType, dialect)
                    wanted = f"logicalType {prop.logicalType!r}"
                if same is False:
                    yield column_problem(
                        port,
                        i,
                        f"column {name!r}: dbt data_type {dbt_type!r} is not the contract's {wanted} in {dialect}{stale}",
                        "physicalType" if prop.physicalType else "logicalType",
                        rule="policy.dbt_column_type",
                    )
