"""Cron expressions are checked with croniter (pinned to the release Dagster 1.13 vendors) in
Dagster's dialect: what the platform accepts, Dagster's public ScheduleDefinition accepts too,
and croniter's fire times agree with the schedule Dagster builds."""

from __future__ import annotations

import datetime as dt
import re
from importlib import metadata
from pathlib import Path

import dagster as dg
import pytest
from croniter import croniter

from mesh_platform.specs.cron import check_cron

ROOT = Path(__file__).resolve().parents[1]
ACCEPTED = [
    "0 5 * * *",
    "*/15 * * * *",
    "0 6 * * 1-5",
    "30 2 1 * *",
    "0 0 * * sun",
    "0 8 1 jan,jul *",
    "5,35 8-18 * * mon-fri",
    "0 0 29 2 *",
]
REFUSED = [
    "0 5 L * *",
    "0 5 * * 5L",
    "0 5 * * 1#2",
    "H 5 * * *",
    "0 5 ? * *",
    "0 5 15W * *",
    "0 5 30 2 *",
    "0 0 5 * * *",
    "0 5 * *",
    "0 25 * * *",
    "61 * * * *",
    "every morning",
    "",
]


def test_croniter_is_pinned_to_the_release_dagster_vendors():
    assert metadata.version("croniter") == "6.0.0"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"croniter==6\.0\.0"', pyproject)


@pytest.mark.parametrize("cron", ACCEPTED)
def test_accepted_expressions_are_accepted_by_dagster_and_fire_alike(cron):
    assert check_cron(cron) == cron
    schedule = dg.ScheduleDefinition(name="s", cron_schedule=cron, job_name="j", execution_timezone="UTC")
    assert schedule.cron_schedule == cron
    # Dagster's own cron iteration, through a public API: time-window partitions start on ticks.
    start, end = dt.datetime(2028, 1, 1), dt.datetime(2028, 3, 10)
    partitions = dg.TimeWindowPartitionsDefinition(
        start=start, cron_schedule=cron, fmt="%Y-%m-%d %H:%M", timezone="UTC", end_offset=1
    )
    dagster_ticks = partitions.get_partition_keys(current_time=end)
    ticks, it = [], croniter(cron, start - dt.timedelta(minutes=1))
    while (tick := it.get_next(dt.datetime)) < end:
        ticks.append(tick.strftime("%Y-%m-%d %H:%M"))
    assert ticks and dagster_ticks[: len(ticks)] == ticks


@pytest.mark.parametrize("cron", REFUSED)
def test_refused_expressions_raise_a_value_error_that_quotes_them(cron):
    with pytest.raises(ValueError) as info:
        check_cron(cron)
    assert repr(cron) in str(info.value)


def test_specs_use_no_private_dagster_api():
    offenders = [
        str(f) for f in (ROOT / "mesh_platform" / "specs").rglob("*.py") if re.search(r"\bdagster\._", f.read_text())
    ]
    assert offenders == []
