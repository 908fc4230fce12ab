"""Write-audit-publish for a domain's Python table on BigQuery (the twin of staged_append.py).

1. write: the new rows are loaded (one Parquet load job) into a staging table
   `<dataset>.<table>__staging_<run>` created with the rows' column types (all nullable, so a
   null the contract forbids fails the audit, not the load); it expires after a day,
   so a crashed run leaves nothing behind for long;
2. audit: the same check specs as on DuckDB, through ibis' BigQuery backend, on the staging table;
3. publish: only if the audit passed, ONE `MERGE` statement deletes the target's rows that share
   the `replace_on` values of the new rows and inserts the new rows (stamped with `loaded_at`
   and `run_id`). A single DML statement is atomic on BigQuery: readers see the history before
   or after, never half of it. The staging table is dropped either way.

The target (`<dataset>.<table>` in MESH_BQ_PROJECT) is created when missing, from the rows'
Arrow schema: non-nullable fields are REQUIRED, the primary key is declared (BigQuery does not
enforce it; the audit does).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mesh_platform.contracts.model import CheckSpec
from mesh_platform.contracts.runner import run_checks
from mesh_platform.publishing import bigquery as bq
from mesh_platform.publishing.staged_append import (
    STAMPS,
    Appended,
    blocked,
    check_declaration,
    required_columns,
)

STAGING_TTL = dt.timedelta(days=1)


def bigquery_type(arrow_type) -> str:
    """The BigQuery column type a load job gives an Arrow (Parquet) column."""
    if pa.types.is_boolean(arrow_type):
        return "BOOL"
    if pa.types.is_integer(arrow_type):
        return "INT64"
    if pa.types.is_floating(arrow_type):
        return "FLOAT64"
    if pa.types.is_decimal(arrow_type):
        return "BIGNUMERIC" if arrow_type.precision > 38 or arrow_type.scale > 9 else "NUMERIC"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP" if arrow_type.tz else "DATETIME"
    if pa.types.is_time(arrow_type):
        return "TIME"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "BYTES"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "STRING"
    raise TypeError(f"no BigQuery column type for Arrow type {arrow_type}")


def staged_append(
    bq_client,
    rows: Any,
    *,
    schema: str,
    table: str,
    run_id: str,
    primary_key: Sequence[str] = (),
    replace_on: Sequence[str] = (),
    specs: Sequence[CheckSpec] = (),
    masked: set[str] = frozenset(),
    label: str | None = None,
) -> Appended:
    """Stage `rows` (a pyarrow Table) in dataset `schema`, audit them, then MERGE them in."""
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.cloud import bigquery

    label = label or f"{schema}.{table}"
    check_declaration(rows, primary_key, replace_on, label)
    project = bq_client.project
    bq.ensure_dataset(bq_client, schema)
    required = required_columns(rows, primary_key)
    types = {f.name: bigquery_type(f.type) for f in rows.schema}
    # Staging takes nulls, so that a null where the contract wants a value fails the audit
    # (with a sample), not the load; the target declares them REQUIRED.
    fields = [
        bigquery.SchemaField(name, kind, mode="REQUIRED" if name in required else "NULLABLE")
        for name, kind in types.items()
    ]
    staging_name = f"{table}__staging_{re.sub(r'[^A-Za-z0-9]', '', run_id)[:32] or 'run'}"
    staging_id, target_id = f"{project}.{schema}.{staging_name}", f"{project}.{schema}.{table}"

    staging = bigquery.Table(staging_id, schema=[bigquery.SchemaField(name, kind) for name, kind in types.items()])
    staging.expires = dt.datetime.now(dt.UTC) + STAGING_TTL
    bq_client.delete_table(staging_id, not_found_ok=True)
    bq_client.create_table(staging)
    try:
        buffer = io.BytesIO()
        pq.write_table(rows, buffer)
        buffer.seek(0)
        bq_client.load_table_from_file(
            buffer,
            staging_id,
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET, write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE
            ),
        ).result()

        outcomes = []
        if specs:
            backend = bq.ibis_backend(bq_client)
            outcomes = run_checks(
                list(specs),
                backend.table(staging_name, database=(project, schema)),
                masked,
                resolve=bq.published_resolver(backend),
            )
        error = blocked(label, outcomes)
        if error:
            raise error

        _create_target(bq_client, target_id, fields, primary_key)
        columns = [f"`{c}`" for c in rows.schema.names]
        replace = ""
        if replace_on:
            match = " AND ".join(f"s.`{c}` = t.`{c}`" for c in replace_on)
            replace = (
                f"WHEN NOT MATCHED BY SOURCE AND EXISTS (SELECT 1 FROM `{staging_id}` s WHERE {match}) THEN DELETE\n"
            )
        merge = (
            f"MERGE `{target_id}` t USING `{staging_id}` n ON FALSE\n{replace}"
            f"WHEN NOT MATCHED THEN INSERT ({', '.join([*columns, *(f'`{s}`' for s in STAMPS)])})\n"
            f"VALUES ({', '.join(f'n.{c}' for c in columns)}, @loaded_at, @run_id)"
        )
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        bq_client.query_and_wait(
            merge,
            job_config=bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ScalarQueryParameter("loaded_at", "DATETIME", loaded_at),
                    bigquery.ScalarQueryParameter("run_id", "STRING", run_id),
                ]
            ),
        )
        return Appended(rows=rows.num_rows, outcomes=outcomes)
    finally:
        bq_client.delete_table(staging_id, not_found_ok=True)


def _create_target(bq_client, target_id: str, fields: list, primary_key: Sequence[str]) -> None:
    # lazy: the BigQuery client is only needed on the BigQuery target
    from google.cloud import bigquery
    from google.cloud.bigquery.table import PrimaryKey, TableConstraints

    target = bigquery.Table(
        target_id,
        schema=[
            *fields,
            bigquery.SchemaField("loaded_at", "DATETIME", mode="REQUIRED"),
            bigquery.SchemaField("run_id", "STRING", mode="REQUIRED"),
        ],
    )
    if primary_key:
        target.table_constraints = TableConstraints(primary_key=PrimaryKey(columns=list(primary_key)), foreign_keys=[])
    bq_client.create_table(target, exists_ok=True)
