"""What `mesh materialize` shows while a run goes: a progress line, not thousands of DEBUG lines.

Dagster's console logger prints every event of a run; a full refresh of five daily years is
~25,000 of them. The CLI keeps that logger at WARNING (errors still show) unless `--verbose`,
and adds a run logger that counts the finished partitions of each asset and its checks against
the run's plan, drawn as one rich progress bar with elapsed time and an estimate. The plan's
size comes from the CLI (`planned_total`): Dagster writes a run's planned events when it creates
the run, straight to the instance, so a run's loggers never see them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mesh_platform.cli.output import make_console

DONE = {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "ASSET_FAILED_TO_MATERIALIZE"}


@dataclass
class RunCounter:
    """Partitions × assets and checks a run intends (`planned`), and how many have ended."""

    planned: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    on_change: object = None

    def see(self, event_type: str) -> None:
        if event_type not in DONE:
            return
        self.done += 1
        if callable(self.on_change):
            self.on_change(self)


def planned_total(defs: dg.Definitions, selected: list[dg.AssetKey], days: int) -> int:
    """What a run of `selected` ends with: one materialisation per partition of each partitioned
    asset in its range (`days`), one per unpartitioned asset, one evaluation per check."""
    wanted = set(selected)
    total = 0
    for assets in defs.assets or []:
        for spec in getattr(assets, "specs", []):
            if spec.key in wanted:
                total += days if spec.partitions_def is not None else 1
        total += sum(1 for check in getattr(assets, "check_specs", []) if check.asset_key in wanted)
    return total


class _CountingHandler(logging.Handler):
    def __init__(self, counter: RunCounter):
        super().__init__(logging.DEBUG)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is not None:
            self.counter.see(event.event_type_value)


def loggers(counter: RunCounter, verbose: bool) -> tuple[dict[str, dg.LoggerDefinition], dict]:
    """The run's loggers (Dagster's console logger and the counter) and their run config."""

    @dg.logger(description="counts a run's planned and finished asset partitions and checks")
    def progress(_init_context) -> logging.Logger:
        log = logging.getLogger(f"mesh.progress.{id(counter)}")
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.handlers = [_CountingHandler(counter)]
        return log

    config = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}, "progress": {}}}
    return {"console": dg.colored_console_logger, "progress": progress}, config


class ProgressDisplay:
    """One bar per run on a terminal; nothing where output is not a terminal (CI logs, pipes)."""

    def __init__(self, console: Console | None = None):
        self.console = console or make_console(stderr=True)  # product names printed as written
        self.enabled = self.console.is_terminal
        self._progress: Progress | None = None
        self._task = None

    def start(self, label: str, planned: int = 0) -> RunCounter:
        counter = RunCounter(planned=planned, on_change=self._update)
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=planned or None)
        return counter

    def _update(self, counter: RunCounter) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=max(counter.planned, counter.done), completed=counter.done)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
