"""Leave a finished command's process without tearing the interpreter down.

After its last line, a one-day `mesh materialize` spent ~1.1 s in the interpreter's shutdown:
the final garbage collection and module teardown over Dagster's, dbt's and pandas' objects
(measured: 10.3 s to the exit, 9.2 s to the last atexit handler). dbt's own process paid
~0.8 s the same way (4.9 s bare, 4.1 s without the teardown). Once the command has returned
nothing needs that teardown: our files and databases are written and closed inside the
command, non-daemon threads have been joined, and the atexit handlers registered after this
one (everything the command imported: temporary folders, multiprocessing, ...) have run. So
the last handler flushes logging and the standard streams and ends the process with
`os._exit`, with the command's exit code.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable

_code = 1  # an uncaught exception exits 1, as Python's own exit does
_report: Callable[[int], object] | None = None


def run(command: Callable[[], object], report: Callable[[int], object] | None = None) -> None:
    """Run a click command in standalone mode (it ends in SystemExit) and leave fast; `report`
    is given the exit code once the streams are flushed (dbt_standby.py: to the waiting mesh-dbt).

    Call it before the command's own imports: atexit runs handlers last-registered first, so
    every handler registered later (by whatever the command imports) still runs before ours."""
    global _code, _report
    _report = report
    atexit.register(_leave)
    try:
        command()
        _code = 0
    except SystemExit as done:
        _code = _exit_code(done.code)
        raise  # Python prints a message exit's text, then runs the atexit handlers
    except KeyboardInterrupt:
        _code = 130  # the shell's code for SIGINT
        raise


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _leave() -> None:
    if "logging" in sys.modules:  # its own atexit handler was registered before ours: flush here
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass  # closed or replaced: nothing to flush
    if _report is not None:
        try:
            _report(_code)
        except OSError:
            pass  # nobody waits for the code any more
    os._exit(_code)
