"""In `dagster dev`, each domain's sensor fails the domain's runs whose process died and frees
their pool slots (see mesh_platform/runtime/dead_runs.py for why Dagster alone does not)."""

from __future__ import annotations

import dagster as dg

from mesh_platform.runtime.dead_runs import reap_dead_runs


def dead_run_sensor(domain: str, minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{domain}__dead_runs",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Marks {domain} runs whose process is gone as failed and frees their pool slots",
    )
    def _reap(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        reaped = reap_dead_runs(context.instance, domain=domain, log=context.log.warning)
        return dg.SkipReason(f"{len(reaped)} dead run(s) marked failed" if reaped else "no dead runs")

    return _reap
