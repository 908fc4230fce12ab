"""Built-in policies; importing this package registers them. One concern per module."""

from mesh_platform.governance.policies import (  # noqa: F401
    dbt_models,
    deprecation,
    input_ports,
    keys,
    naming,
    ownership,
    pii,
    references,
    sla_quality,
    standards,
)
