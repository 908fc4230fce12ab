"""Contract check specs as Dagster asset checks, and outcomes as check results."""

from __future__ import annotations

import dagster as dg

from mesh_platform.contracts.check_specs import CheckSpec
from mesh_platform.contracts.runner import CheckOutcome
from mesh_platform.redaction import redact, redact_value


def asset_check_spec(spec: CheckSpec, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=spec.key,
        asset=asset_key,
        description=spec.description,
        blocking=spec.blocking,
        metadata={"dimension": spec.dimension, "severity": spec.severity, "rule": spec.rule,
                  "source": "contract"},
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
        metadata["failing_count"] = outcome.failing_count if outcome.failing_count is not None else -1
        metadata["failing_ratio"] = outcome.failing_ratio if outcome.failing_ratio is not None else -1.0
        metadata["failing_sample"] = dg.MetadataValue.json(redact_value(outcome.sample))
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=spec.key,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        description=redact(outcome.message)[:1000],
        metadata=metadata,
    )
