"""Writing a query's rows to one Parquet file, the way publishing does it on DuckDB.

pyarrow's writer, fed by DuckDB's Arrow stream, when every column has a type that it writes as
DuckDB's own `COPY ... (FORMAT parquet)` does (read back by DuckDB: the same column types and
rows, tests/test_parquet_files.py); `COPY` for any other type: pyarrow cannot write intervals and
UUIDs come back as VARCHAR; nested, unsigned and other timestamp precisions are simply not in
the tested set. Why: on the sample mesh's port at scale 10 (7.6M rows, 60 monthly files
written two at a time on 2 cores), publishing took 4.8-5.0 s and 9.2-9.6 CPU-s with `COPY`,
3.7 s and 6.8-6.9 CPU-s with pyarrow, for files 12% bigger (both zstd); the publishing
process peaked ~95 MB higher (pyarrow's batches and pages).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

if TYPE_CHECKING:
    import duckdb

ROW_GROUP = 122_880  # rows per row group: DuckDB's own writer's default
# DuckDB column types whose pyarrow-written Parquet DuckDB reads back as the same type
SAME_TYPES = re.compile(
    r"BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|FLOAT|DOUBLE|VARCHAR|DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE"
    r"|DECIMAL\(\d+,\d+\)"
)


def write_parquet(cursor: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """Write `query`'s rows to `path` (zstd). `query` is trusted SQL; `cursor` runs nothing else
    meanwhile (a `con.cursor()` per thread)."""
    rows = cursor.sql(query)
    if not all(SAME_TYPES.fullmatch(str(kind)) for kind in rows.types):
        cursor.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        return
    # 64-bit string offsets: a batch's strings may pass 2 GB (global to the database instance;
    # every Arrow reader takes large strings, and they are written to Parquet as any string)
    cursor.execute("SET arrow_large_buffer_size = true")
    reader = rows.to_arrow_reader(ROW_GROUP)
    try:
        with pq.ParquetWriter(path, reader.schema, compression="zstd", store_decimal_as_integer=True) as writer:
            for batch in reader:  # a query failing half-way raises here (OSError with DuckDB's message)
                writer.write_batch(batch)
    except BaseException:
        Path(path).unlink(missing_ok=True)  # as COPY does: no half-written file behind
        raise
