"""A port's dbt columns and types are generated from its ODCS contract (contracts/dbt_models.py),
in spellings valid on DuckDB and BigQuery; the dbt-contract policies then check what dbt
resolved (tests/test_governance_policies.py)."""

from __future__ import annotations

import pytest

from mesh_platform.contracts.dbt_models import dbt_data_type, models_yaml
from mesh_platform.governance import types
from mesh_platform.mesh import Mesh


@pytest.mark.parametrize(
    "physical, logical, expected",
    [
        ("varchar", "string", "string"),
        ("VARCHAR", None, "string"),
        ("decimal(10, 2)", "number", "numeric(10,2)"),
        ("integer", "integer", "integer"),
        ("timestamp", "timestamp", "timestamp"),
        (None, "number", "numeric"),
        (None, "string", "string"),
        (None, None, None),
    ],
)
def test_dbt_data_type(physical, logical, expected):
    assert dbt_data_type(physical, logical) == expected


def test_every_port_model_has_its_contracts_columns_public_and_enforced():
    mesh = Mesh.load()
    ports = [p for d in mesh.domains.values() for p in d.ports()]
    assert len(ports) >= 6
    for port in ports:
        domain = mesh.domain(port.product.domain_name)
        model = next(m for m in models_yaml(domain)["models"] if m["name"] == port.model)
        assert model["config"] == {"access": "public", "contract": {"enforced": True}}
        props = port.schema.properties
        assert [c["name"] for c in model["columns"]] == [p.physicalName or p.name for p in props], port.address
        for column, prop in zip(model["columns"], props, strict=True):
            for dialect in ("duckdb", "bigquery"):  # valid DDL on both targets, and the contract's type
                if prop.physicalType:
                    assert types.same_type(column["data_type"], prop.physicalType, dialect), (dialect, column)
                assert types.matches_logical(column["data_type"], prop.logicalType, dialect), (dialect, column)
