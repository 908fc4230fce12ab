"""Helpers for the sample-data generators domains ship as `domains/<domain>/seed.py`."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mesh_platform.lifecycle.dates import today as current_day


def history_end(today: dt.date | None = None) -> dt.date:
    """The last day of a live sample's history: yesterday, relative to `today` (default: UTC
    today, or MESH_TODAY, the date lifecycle rules are rehearsed on)."""
    return (today or current_day()) - dt.timedelta(days=1)


def decimal_from_cents(cents: np.ndarray, precision: int, scale: int = 2) -> pa.Array:
    """An exact decimal128(precision, scale) array from integer unscaled values.

    decimal128 is stored as 16-byte little-endian two's complement integers; laying out
    (low 64 bits, sign-extended high 64 bits) pairs avoids any float round trip.
    """
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((cents.shape[0], 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), cents.shape[0], [None, pa.py_buffer(words.tobytes())])


def write_parquet_atomically(table: pa.Table, landing_dir: Path, name: str) -> Path:
    """<name>.parquet.tmp then os.replace, so a reader never sees a half-written file."""
    final = Path(landing_dir) / f"{name}.parquet"
    tmp = final.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, final)
    return final
