"""A self-serve data mesh platform on Dagster.

A domain asks for its Definitions with :func:`build_domain_definitions`; everything
else (dbt assets, contract checks, publishing, schedules, freshness) follows from
the domain's folder of YAML and its dbt project.
"""

__all__ = ["build_domain_definitions"]


def __getattr__(name: str):
    if name == "build_domain_definitions":
        # lazy: `mesh seed` and spec validation import this package and must not pay for Dagster
        from mesh_platform.dagster_wiring.definitions import build_domain_definitions

        return build_domain_definitions
    raise AttributeError(name)
