"""Time partitions a product may declare (ODPS has no field for them: a customProperty).

    customProperties:
      - property: partitioning
        value: {column: sold_date, granularity: day, start: "2021-01-01"}

`column` is a date column of every output port (the dbt models filter on it, publishing
lays files out by it); `start` is the first partition; `end` (exclusive, optional) bounds
the set, otherwise it grows by one partition a day up to the last complete one.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from mesh_platform.specs.errors import RuleError
from mesh_platform.specs.identifiers import SNAKE_CASE

PROPERTY = "partitioning"
# A partition set starts and ends in this range: one partition a day from year 1 would be
# 740,000 partitions (Dagster, the catalog and every run plan would pay for each).
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2100, 12, 31)


class Partitioning(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    granularity: Literal["day"] = "day"
    start: dt.date
    end: dt.date | None = None

    @field_validator("column")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not SNAKE_CASE.match(value):
            raise RuleError("spec.naming", "expected a lower_snake_case column name")
        return value

    @field_validator("start", "end")
    @classmethod
    def _sane(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(f"expected a date between {EARLIEST} and {LATEST}, got {value}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Partitioning:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"'end' ({self.end}) must be after 'start' ({self.start})")
        return self
