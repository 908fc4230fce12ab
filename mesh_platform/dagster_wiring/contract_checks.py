"""Contract check specs as Dagster asset checks, outcomes as check results, and a check
evaluation (ours or dbt's) back as a `Status`."""

from __future__ import annotations

import dagster as dg

from mesh_platform.contracts.model import CheckOutcome, CheckSpec, Status
from mesh_platform.redaction import redact, redact_value


def asset_check_spec(spec: CheckSpec, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=spec.key,
        asset=asset_key,
        description=spec.description,
        blocking=spec.blocking,
        metadata={"dimension": spec.dimension, "severity": spec.severity, "rule": spec.rule, "source": "contract"},
    )


def check_result(outcome: CheckOutcome, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    spec = outcome.spec
    metadata: dict = {
        "dimension": spec.dimension,
        "severity": spec.severity,
        "rule": spec.rule,
        "columns": ", ".join(spec.columns) or "(table)",
        "total_rows": outcome.total_rows or 0,
    }
    if spec.threshold is not None:
        metadata["threshold"] = spec.threshold.describe()
    if outcome.metric is not None:
        metadata["measured"] = outcome.metric
    if not outcome.passed:
        if outcome.failing_count is not None:  # rules without offending rows have no count: no entry
            metadata["failing_count"] = outcome.failing_count
            metadata["failing_ratio"] = outcome.failing_ratio
        metadata["failing_sample"] = dg.MetadataValue.json(redact_value(outcome.sample))
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=spec.key,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        description=redact(outcome.message)[:1000],
        metadata=metadata,
    )


def status_of(evaluation: dg.AssetCheckEvaluation) -> Status:
    """The status of any check evaluation in the event log: a failure blocks when the
    check's severity is ERROR (ours and dbt tests' alike)."""
    return Status.of(evaluation.passed, evaluation.severity == dg.AssetCheckSeverity.ERROR)
