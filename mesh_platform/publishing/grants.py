"""The BigQuery grants the mesh implies, as a reviewable plan, and applying it.

A consumer that declares an input port gets `roles/bigquery.dataViewer` on that port's
published *view* and nothing else: never on the producer's internal dataset, never on the
snapshot tables behind the view. The view reads the snapshots as an authorised view of
its own dataset (a dataset access entry), so readers need no access to them.

The plan is plain JSON (`mesh grants plan` style: review it in a pull request, apply it
with `apply`, or translate it to Terraform `google_bigquery_table_iam_member` and
`google_bigquery_dataset_access` resources one to one).

Who a domain is on BigQuery: MESH_BQ_PRINCIPAL_<DOMAIN> (e.g. `group:<domain>-data@corp.example`),
by default the service account its code location runs as,
`serviceAccount:mesh-<domain>@<project>.iam.gserviceaccount.com`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mesh_platform.mesh.address import PortAddress
from mesh_platform.publishing import bigquery as bq

READER = "roles/bigquery.dataViewer"


def principal(domain: str) -> str:
    default = f"serviceAccount:mesh-{domain.replace('_', '-')}@{bq.project()}.iam.gserviceaccount.com"
    return os.environ.get(f"MESH_BQ_PRINCIPAL_{domain.upper()}", default)


def plan(domains) -> dict:
    """Grants for every input port of every product of `domains` (loaded Domain objects)."""
    table_iam, authorized_views = [], []
    ports = {port.address for d in domains for port in d.ports()}
    for domain in domains:
        for port in domain.ports():
            authorized_views.append(
                {
                    "dataset": f"{bq.project()}.{bq.published_dataset(domain.name)}",
                    "view": bq.view_id(domain.name, port.name),
                }
            )
        for product in domain.products:
            for input_port in product.spec.inputPorts or []:
                source = getattr(input_port, "source", None)
                if not source or source not in ports:
                    continue
                address = PortAddress.parse(source)
                table_iam.append(
                    {
                        "resource": bq.view_id(address.domain, address.port),
                        "role": READER,
                        "member": principal(domain.name),
                        "reason": f"{product.address} reads input port {source}",
                    }
                )
    key = lambda g: tuple(sorted(g.items()))  # noqa: E731
    return {
        "project": bq.project(),
        "table_iam": sorted({key(g): g for g in table_iam}.values(), key=key),
        "authorized_views": sorted({key(g): g for g in authorized_views}.values(), key=key),
    }


def write_plan(grant_plan: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(grant_plan, indent=2, sort_keys=True) + "\n")
    return path


def apply(bq_client, grant_plan: dict) -> dict[str, int]:
    """Apply the plan: authorised-view entries on each published dataset, then a reader
    binding per (view, member). Idempotent."""
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.cloud import bigquery

    done = {"authorized_views": 0, "table_iam": 0}
    for entry in grant_plan["authorized_views"]:
        dataset = bq_client.get_dataset(entry["dataset"])
        project, dataset_id, table_id = entry["view"].split(".")
        access = bigquery.AccessEntry(
            None, "view", {"projectId": project, "datasetId": dataset_id, "tableId": table_id}
        )
        if access not in dataset.access_entries:
            dataset.access_entries = [*dataset.access_entries, access]
            bq_client.update_dataset(dataset, ["access_entries"])
        done["authorized_views"] += 1
    for grant in grant_plan["table_iam"]:
        policy = bq_client.get_iam_policy(grant["resource"])
        binding = next((b for b in policy.bindings if b["role"] == grant["role"]), None)
        if binding is None:
            policy.bindings.append({"role": grant["role"], "members": {grant["member"]}})
        elif grant["member"] not in binding["members"]:
            binding["members"] = set(binding["members"]) | {grant["member"]}
        bq_client.set_iam_policy(grant["resource"], policy)
        done["table_iam"] += 1
    return done
