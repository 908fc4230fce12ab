"""The dbt model behind an output port is public and enforces a dbt model contract that matches
the ODCS schema: the same column names (order-insensitive) and the same types in each dialect."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mesh_platform.governance import types
from mesh_platform.governance.dbt_models import find_model
from mesh_platform.governance.policies.where import columns, descriptor_port_problem, port_subject, problem_at
from mesh_platform.governance.registry import Policy, register
from mesh_platform.specs.errors import Problem


def _model(ctx, port):
    domain = ctx.domain(port.product.domain_name)
    return find_model(domain.dbt_project_dir, port.model)


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
                model.access_at,
                f"dbt model {port.model!r} implements output port {port.address} "
                f"but has access {model.access!r}; set `access: public`",
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
                model.enforced_at,
                f"dbt model {port.model!r} does not enforce its contract; set "
                "config.contract.enforced: true with a data_type per column",
                rule="policy.dbt_contract_unenforced",
            )
            return
        odcs = {name: prop for _, prop, name in columns(port)}
        dbt = {str(c.get("name")): (i, c) for i, c in enumerate(model.columns)}
        for name in sorted(set(odcs) - set(dbt)):
            yield _at(
                port,
                (model.file, model.line),
                f"dbt model {port.model!r} lacks column {name!r} of contract {port.contract.id!r}",
                rule="policy.dbt_columns",
            )
        for name in sorted(set(dbt) - set(odcs)):
            i, _ = dbt[name]
            yield _at(
                port,
                (model.file, model.column_line(i)),
                f"dbt model {port.model!r} has column {name!r} that contract {port.contract.id!r} does not declare",
                rule="policy.dbt_columns",
            )
        for name in sorted(set(dbt) & set(odcs)):
            i, column = dbt[name]
            dbt_type, prop = column.get("data_type"), odcs[name]
            if not dbt_type:
                yield _at(
                    port,
                    (model.file, model.column_line(i)),
                    f"column {name!r} of dbt model {port.model!r} has no data_type",
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
                    yield _at(
                        port,
                        (model.file, model.column_line(i, "data_type")),
                        f"column {name!r}: dbt data_type {dbt_type!r} is not the contract's {wanted} in {dialect}",
                        rule="policy.dbt_column_type",
                    )
