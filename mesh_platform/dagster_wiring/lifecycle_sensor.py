"""One lifecycle sensor per providing domain (`<domain>__lifecycle`): deprecation notices and
sunset reminders for the consumers of its ports, and the archiving of retired ports' snapshots.
What is due and who hears of it is lifecycle/notices.py; this is only the Dagster tick."""

from __future__ import annotations

import dagster as dg

from mesh_platform.alerts.state import AlertCursor
from mesh_platform.lifecycle.dates import today as today_
from mesh_platform.lifecycle.notices import run_notices
from mesh_platform.mesh import Mesh
from mesh_platform.mesh.domain import Domain


def lifecycle_sensor(domain: Domain, minimum_interval_seconds: int = 600) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{domain.name}__lifecycle",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Deprecation notices and sunset reminders for the consumers of {domain.name}'s ports; "
        "archives retired ports' snapshots",
    )
    def _lifecycle(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = AlertCursor.load(context.cursor)
        new = run_notices(Mesh.load(domain.dir.parent), domain.name, cursor, today_(), context.log)
        return dg.SensorResult(
            skip_reason=f"{len(new)} lifecycle alert(s), {len(cursor.pending)} pending", cursor=cursor.dump()
        )

    return _lifecycle
