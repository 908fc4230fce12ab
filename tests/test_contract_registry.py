"""The rule registry and the one outcome model.

A new row-level rule kind is one registry entry: registering one here (a `no_blank` rule,
offending on empty or whitespace-only text) makes it measurable in the shared aggregate,
judged by pandera, explained with a masked sample and compiled for BigQuery, with no other
change. The outcome's `Status` is what every consumer reads; figures a rule does not have
are absent, never a -1 sentinel.
"""

from __future__ import annotations

import dagster as dg
import ibis
import sqlglot

from mesh_platform.contracts import registry
from mesh_platform.contracts.bigquery_sql import compile_sql
from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckOutcome, CheckSpec, Status, Threshold
from mesh_platform.contracts.registry import RULES, RuleKind, Shape
from mesh_platform.contracts.runner import run_checks
from mesh_platform.dagster_wiring.contract_checks import check_result, status_of


def test_every_entry_is_consistent():
    for name, kind in RULES.items():
        assert kind.name == name
        assert (kind.predicate is not None) == (kind.shape is Shape.ROW), name
        assert kind.dimension in {"conformity", "completeness", "uniqueness", "consistency", "timeliness"}
        if kind.library_metric:
            assert registry.LIBRARY_METRICS[kind.library_metric] is kind
        if kind.option:
            assert registry.OPTION_RULES[kind.option] is kind and kind.shape is Shape.ROW


def _no_blank(monkeypatch) -> RuleKind:
    kind = RuleKind(
        "no_blank",
        Shape.ROW,
        "completeness",
        "(test) text must not be blank",
        predicate=lambda spec, table, now: table[spec.columns[0]].notnull() & (table[spec.columns[0]].strip() == ""),
    )
    monkeypatch.setitem(RULES, kind.name, kind)
    return kind


def _spec(severity: str = "error") -> CheckSpec:
    return CheckSpec(
        "t__note__no_blank", "t", ("note",), "no_blank", "completeness", severity, "note is not blank", NO_FAILING_ROWS
    )


def test_a_new_row_rule_kind_is_one_entry(monkeypatch):
    _no_blank(monkeypatch)
    con = ibis.duckdb.connect()
    con.raw_sql("create table t as select * from (values (1, 'a'), (2, ' '), (3, null), (4, '')) v(id, note)")
    (failed,) = run_checks([_spec()], con.table("t"), {"note"})
    assert failed.status is Status.FAILED and failed.blocks
    assert failed.failing_count == 2 and failed.failing_ratio == 0.5
    assert sorted(failed.sample, key=lambda r: r["id"]) == [{"id": 2, "note": "***"}, {"id": 4, "note": "***"}]
    assert failed.message == "note is not blank: 2 of 4 rows fail"

    con.raw_sql("delete from t where id in (2, 4)")
    (passed,) = run_checks([_spec()], con.table("t"))
    assert passed.status is Status.PASSED and passed.failing_count is None

    sql = compile_sql([_spec()], ibis.table({"id": "int64", "note": "string"}, name="t"), "bigquery")
    for query in (sql["aggregate"], sql["t__note__no_blank:sample"]):
        sqlglot.parse_one(query, read="bigquery")


def test_a_failed_warning_is_warn_and_does_not_block(monkeypatch):
    _no_blank(monkeypatch)
    con = ibis.duckdb.connect()
    con.raw_sql("create table t as select * from (values (1, '')) v(id, note)")
    (outcome,) = run_checks([_spec("warning")], con.table("t"))
    assert outcome.status is Status.WARN and not outcome.blocks and not outcome.passed


def test_status_is_read_back_from_dagster_evaluations():
    key = dg.AssetKey(["d", "p", "t"])
    for passed, severity, status in [
        (True, dg.AssetCheckSeverity.ERROR, Status.PASSED),
        (False, dg.AssetCheckSeverity.ERROR, Status.FAILED),
        (False, dg.AssetCheckSeverity.WARN, Status.WARN),
    ]:
        evaluation = dg.AssetCheckEvaluation(
            asset_key=key, check_name="c", passed=passed, metadata={}, severity=severity
        )
        assert status_of(evaluation) is status


def test_a_failure_without_offending_rows_has_no_failing_count():
    spec = CheckSpec("t__table__row_count", "t", (), "row_count", "completeness", "error", "rows", Threshold(">=", 10))
    outcome = CheckOutcome.judged(spec, False, "rows: measured 3, expected >= 10", metric=3.0, total_rows=3)
    metadata = check_result(outcome, dg.AssetKey(["t"])).metadata
    assert "failing_count" not in metadata and "failing_ratio" not in metadata
    assert metadata["measured"].value == 3.0
