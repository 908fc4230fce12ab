"""The risk domain's Dagster code location: everything comes from this folder's YAML."""

from pathlib import Path

from mesh_platform import build_domain_definitions

defs = build_domain_definitions(Path(__file__).parent)
