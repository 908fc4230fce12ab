"""Check spec -> pandera schema for the ibis backend, so rules run inside the database.

Uniqueness is declared at schema level (`unique=[...]`): pandera's ibis backend
silently skips `Column(unique=True)`.
"""

from __future__ import annotations

import ibis
import pandera.ibis as pa

from mesh_platform.contracts.check_specs import CheckSpec
from mesh_platform.contracts import metrics


def to_pandera(spec: CheckSpec) -> pa.DataFrameSchema:
    cols = spec.columns
    if spec.rule == "not_null":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, name=spec.key)
    if spec.rule == "unique":
        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols}, unique=list(cols), name=spec.key)
    if spec.rule == "primary_key":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols}, unique=list(cols), name=spec.key)
    if spec.rule in metrics.METRICS:
        columns = {c: pa.Column(nullable=True) for c in cols}

        def holds(data: pa.IbisData) -> ibis.expr.types.BooleanScalar:
            return metrics.threshold_expr(spec, data.table)

        return pa.DataFrameSchema(columns, checks=[pa.Check(holds, name=spec.rule, error=spec.description)],
                                  name=spec.key)
    raise ValueError(f"no pandera form for rule {spec.rule!r}")
