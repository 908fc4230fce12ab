"""Dagster APIs we use while they are marked "preview", without a warning on every load.

`Definitions.map_asset_specs` (and `map_resolved_asset_specs`, which it calls) is the idiom
for applying policies over every spec of a location at once (docs/design-decisions.md), but Dagster 1.13
marks it preview and warns each time a code location loads: `dagster dev` logged dozens of
`PreviewWarning`s that said nothing new. Only these two named warnings are silenced, and only
around our call; the spec snapshot tests (tests/test_snapshots.py) catch a change in what
they do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import dagster as dg


def map_asset_specs(defs: dg.Definitions, func: Callable[[dg.AssetSpec], dg.AssetSpec]) -> dg.Definitions:
    with warnings.catch_warnings():
        for name in ("map_asset_specs", "map_resolved_asset_specs"):
            warnings.filterwarnings(
                "ignore", category=dg.PreviewWarning, message=rf"Function `Definitions\.{name}` is currently in preview"
            )
        return defs.map_asset_specs(func=func)
