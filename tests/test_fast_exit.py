"""`mesh` and `mesh-dbt` leave without the interpreter's teardown (runtime/fast_exit.py), and
still exit with the command's code, with all of its output and its later atexit handlers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent

COMMAND = textwrap.dedent(
    """
    import atexit, logging, logging.handlers, sys
    import click
    from mesh_platform.runtime import fast_exit

    @click.command()
    @click.argument("how")
    @click.argument("out")
    def command(how, out):
        atexit.register(lambda: open(out + ".atexit", "w").write("ran"))  # registered later: runs first
        log = logging.getLogger("t")
        # buffered until the handler closes: written only if logging.shutdown() runs
        log.addHandler(logging.handlers.MemoryHandler(1000, target=logging.FileHandler(out + ".log")))
        log.warning("w" * 100_000)
        print("x" * 200_000, end="")  # more than a pipe holds: flushed before the exit
        if how == "fail":
            raise RuntimeError("boom")
        sys.exit(int(how))

    fast_exit.run(command)
    """
)


def _run(how: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", COMMAND, how, str(tmp_path / "out")], capture_output=True, text=True, timeout=60
    )


def test_the_exit_code_the_output_and_later_atexit_handlers_survive(tmp_path):
    for how, code in (("0", 0), ("3", 3)):
        done = _run(how, tmp_path)
        assert done.returncode == code, done.stderr
        assert done.stdout == "x" * 200_000
        assert (tmp_path / "out.atexit").read_text() == "ran"
        assert (tmp_path / "out.log").read_text() == "w" * 100_000 + "\n"
        (tmp_path / "out.atexit").unlink()
        (tmp_path / "out.log").unlink()


def test_an_uncaught_exception_still_exits_1_with_its_traceback(tmp_path):
    done = _run("fail", tmp_path)
    assert done.returncode == 1
    assert "RuntimeError: boom" in done.stderr and "Traceback" in done.stderr


def test_mesh_and_mesh_dbt_exit_with_their_commands_codes():
    help_ = subprocess.run([BIN / "mesh", "--help"], capture_output=True, text=True, timeout=60)
    assert help_.returncode == 0 and "materialize" in help_.stdout
    wrong = subprocess.run([BIN / "mesh", "no-such-command"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "No such command" in wrong.stderr
    version = subprocess.run([BIN / "mesh-dbt", "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and "installed" in version.stdout
    missing = subprocess.run(
        [BIN / "mesh-dbt", "parse", "--project-dir", "/nonexistent"], capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 2, missing.stdout + missing.stderr
