"""One timed child process, as every benchmark here measures it: a fresh process from start to
exit (wall clock), with its CPU time and peak RSS from the kernel (os.wait4), so that imports and
start-up count and the figures hold whatever the parent has loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> dict:
    """Wall and CPU seconds, peak RSS (MB) and the output; exits the benchmark if the child fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(out.decode(errors="replace")[-4000:])
        raise SystemExit(f"failed (exit {code}): {' '.join(cmd)}")
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,  # load-independent-ish
        "peak_mb": usage.ru_maxrss / 1024,
        "out": out.decode(errors="replace"),
    }
