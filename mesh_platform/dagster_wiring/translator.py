"""The one translator: dbt nodes -> asset specs keyed [domain, product, table].

What an asset *is* (key, group, owners, tags, kinds, description, metadata); when it runs and
how fresh it must be are applied once over all specs (policies.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject
from dagster_dbt.asset_utils import DAGSTER_DBT_MANIFEST_METADATA_KEY
from dagster_dbt.dagster_dbt_translator import DbtManifestWrapper

from mesh_platform import settings
from mesh_platform.dagster_wiring.catalog_metadata import port_metadata, tag_value
from mesh_platform.dagster_wiring.input_ports import input_port_of, source_asset_key
from mesh_platform.dagster_wiring.landing import LANDING
from mesh_platform.mesh.domain import Domain, Port


@dataclass
class ManifestFile(DbtManifestWrapper):
    """dagster-dbt's manifest wrapper (`dagster_dbt/manifest` metadata, read by the run's
    `dbt.cli(context=...)`), shown in Dagster as the manifest's repo-relative path instead of
    `[DbtManifestWrapper] (unserializable)`: Dagster records `os.PathLike` values as paths."""

    path: str = ""

    def __fspath__(self) -> str:
        return self.path


class MeshTranslator(DagsterDbtTranslator):
    """The translator rides in each dbt asset's metadata too (`dagster_dbt/dagster_dbt_translator`);
    Dagster shows it as this module's repo-relative path (`__fspath__`), not as unserializable."""

    def __init__(
        self,
        domain: Domain,
        product_by_uid: dict[str, str],
        port_by_model: dict[str, Port],
        lifecycle_meta: dict[str, dict[str, Any]] | None = None,
        column_lineage: dict[str, dg.TableColumnLineage] | None = None,
    ):
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # Select dbt nodes by name: contract checks are not dbt tests, and by-name
                # selection lets dagster-dbt pass over them when checks run on their own.
                enable_dbt_selection_by_name=True,
            )
        )
        self.domain = domain
        self.product_by_uid = product_by_uid
        self.port_by_model = port_by_model
        self.lifecycle_meta = lifecycle_meta or {}  # port address -> lifecycle and agreements
        self.column_lineage = column_lineage or {}  # model name -> columns from other products' ports

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        base = super().get_asset_spec(manifest, unique_id, project)
        if project is not None and DAGSTER_DBT_MANIFEST_METADATA_KEY in base.metadata:
            base = base.merge_attributes(
                metadata={DAGSTER_DBT_MANIFEST_METADATA_KEY: self._manifest_file(manifest, project)}
            )
        node = self.get_resource_props(manifest, unique_id)
        if node["resource_type"] == "source":
            return self._source_spec(base, node)
        name = node["name"]
        port = self.port_by_model.get(name)
        product = port.product.name if port else self.product_by_uid.get(unique_id, "shared")
        layer = node.get("fqn", ["", ""])[1] if len(node.get("fqn", [])) > 2 else "models"
        tags = {"domain": self.domain.name, "product": product, "layer": tag_value(layer)}
        attrs: dict[str, Any] = dict(
            key=dg.AssetKey([self.domain.name, product, port.name if port else name]),
            group_name=self.domain.name,
            owners=list((port.product.team if port else self.domain.spec.team).owners),
            kinds={"dbt", "duckdb"},
        )
        lineage = {"dagster/column_lineage": self.column_lineage[name]} if name in self.column_lineage else {}
        if port is None:  # visibly internal in the UI: kind, tag and a description prefix
            attrs.update(
                kinds={"dbt", "duckdb", "internal"},
                description=f"[internal to {product}] " + (base.description or "not an output port"),
            )
            return base.replace_attributes(**attrs).merge_attributes(
                tags={**tags, "visibility": "internal"}, metadata=lineage
            )
        archetype = port.product.spec.custom("archetype")
        tags.update(
            {
                "visibility": "output_port",
                "archetype": tag_value(archetype),
                "tier": tag_value(port.product.spec.custom("tier", "none")),
            }
        )
        for tag in port.product.spec.tags:
            tags[f"product_tag.{tag_value(tag)}"] = ""
        description = port.spec.description or port.contract.purpose or base.description
        attrs.update(description=description, kinds={"dbt", "duckdb", "parquet", "output_port"})
        metadata = {**port_metadata(port), **self.lifecycle_meta.get(port.address, {}), **lineage}
        return base.replace_attributes(**attrs).merge_attributes(metadata=metadata, tags=tags)

    def __fspath__(self) -> str:
        return settings.repo_relative(__file__)

    def _manifest_file(self, manifest: Mapping[str, Any], project: DbtProject) -> ManifestFile:
        """One wrapper per manifest (dagster-dbt makes one per node; they hold the same dict)."""
        cached = getattr(self, "_manifest_wrapper", None)
        if cached is None or cached.manifest is not manifest:
            path = settings.repo_relative(project.project_dir / project.target_path / "manifest.json")
            cached = self._manifest_wrapper = ManifestFile(manifest=manifest, path=path)
        return cached

    def _source_spec(self, base: dg.AssetSpec, node: Mapping[str, Any]) -> dg.AssetSpec:
        """Landing tables are the domain's operational data: [domain, 'landing', table].
        An input port is the producer's output port key [domain, product, port] (one lineage
        graph across code locations); a table the domain's Python builds is [domain, product, table]."""
        key = source_asset_key(self.domain, dict(node), LANDING)
        if input_port_of(dict(node)):
            return base.replace_attributes(key=key).merge_attributes(
                tags={"domain": key.path[0], "visibility": "output_port"}
            )
        layer = LANDING if key.path[1] == LANDING else "python"
        return base.replace_attributes(
            key=key,
            group_name=self.domain.name,
            owners=list(self.domain.spec.team.owners),
        ).merge_attributes(tags={"domain": self.domain.name, "visibility": "internal", "layer": layer})
