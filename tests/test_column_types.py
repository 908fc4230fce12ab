"""The contract checks and governance read column types the same way (one table of ODCS types)."""

import pytest

from mesh_platform.contracts import measure
from mesh_platform.governance import types as governance_types
from mesh_platform.specs import column_types

CASES = [
    ("uuid", "string", True),
    ("varchar", "string", True),
    ("map(varchar, integer)", "map", True),
    ("map(varchar, integer)", "object", False),
    ("struct(a integer)", "object", True),
    ("bigint", "integer", True),
    ("decimal(10,2)", "integer", False),
    ("decimal(10,2)", "number", True),
    ("date", "timestamp", False),
    ("float[3]", "vector", True),
]


@pytest.mark.parametrize("physical,logical,expected", CASES)
def test_the_checks_and_the_dbt_contract_policy_agree_on_logical_types(physical, logical, expected):
    actual = column_types.parse(physical)
    check_problem = measure._type_problem(actual, logical, None, "duckdb")
    assert (check_problem is None) is expected, check_problem
    assert governance_types.matches_logical(physical, logical) is expected


def test_an_unknown_logical_type_gives_no_verdict_and_timestamps_compare_by_time_zone():
    assert governance_types.matches_logical("varchar", "bogus") is None
    assert governance_types.same_type("timestamp(3)", "timestamp") is True
    assert governance_types.same_type("timestamptz", "timestamp") is False
    assert governance_types.same_type("decimal(x)", "varchar") is None
