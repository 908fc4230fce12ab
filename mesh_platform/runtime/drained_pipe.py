"""A child's output read by a thread, so the child never waits for its reader.

dagster-dbt reads dbt's JSON log lines in the run's own thread, between the events it hands to
Dagster. A partitioned product's view is one dbt log line but a materialisation per day: over
five years Dagster spends about a second recording each view's 1,797 events (profiled), and all
that time nobody reads dbt's pipe, which holds 64 KiB, a few dozen of dbt's lines: once it is
full, dbt waits. With the pipe drained into memory by a thread, dbt builds on while Dagster
records (dbt's output of a run is a few MB at most).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import IO

_END = object()


class DrainedPipe:
    """Stands in for `Popen.stdout`: iterating gives the child's lines as the thread read them.

    `close()` only marks it closed: the thread reads to the end of the pipe (the child's exit),
    so closing never waits on a read in progress, and a child told to stop is not also cut off
    from its output."""

    def __init__(self, pipe: IO[bytes], name: str = "child-output") -> None:
        self._pipe = pipe
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            with self._pipe:
                for line in self._pipe:
                    self._lines.put(line)
        except (OSError, ValueError):  # the pipe went away under us: the end, as for EOF
            pass
        finally:
            self._lines.put(_END)

    def __iter__(self) -> Iterator[bytes]:
        while not self.closed:
            line = self._lines.get()
            if line is _END:
                self._lines.put(_END)  # a later iteration ends too
                return
            yield line

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> DrainedPipe:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
