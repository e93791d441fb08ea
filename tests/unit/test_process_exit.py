"""A command ends its process with its own exit status, after all its output is written."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from shutterbox.entrypoints.process_exit import exit_status


@pytest.mark.parametrize(
    ("code", "status"), [(None, 0), (0, 0), (2, 2), (-1, 255), (True, 1), ("a message", 1)]
)
def test_exit_status_is_that_of_python(code: object, status: int):
    assert exit_status(code) == status


def _run(body: str) -> subprocess.CompletedProcess[str]:
    script = "import sys\nfrom shutterbox.entrypoints.process_exit import run_then_exit\n"
    return subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_output_buffered_in_the_process_is_written_before_it_ends():
    result = _run(
        """
        import logging
        logging.basicConfig(stream=sys.stderr, format="%(message)s")
        def command():
            sys.stdout.write("x" * 200_000)
            logging.getLogger("shutterbox").warning("logged at the end")
            sys.exit(3)
        run_then_exit(command)
        print("not reached")
        """
    )
    assert result.returncode == 3
    assert result.stdout == "x" * 200_000
    assert result.stderr.strip() == "logged at the end"


def test_a_command_that_returns_ends_with_status_zero():
    result = _run("run_then_exit(lambda: print('done'))")
    assert (result.returncode, result.stdout) == (0, "done\n")


def test_an_exit_message_goes_to_stderr_with_status_one():
    result = _run("run_then_exit(lambda: sys.exit('cannot read the settings'))")
    assert (result.returncode, result.stderr) == (1, "cannot read the settings\n")


def test_an_escaping_exception_is_left_to_python():
    result = _run("run_then_exit(lambda: 1 / 0)")
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr


def test_the_shutterbox_command_ends_with_its_status():
    ok = subprocess.run(
        [sys.executable, "-m", "shutterbox", "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "serve" in ok.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "shutterbox", "no-such-command"], capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "no-such-command" in unknown.stderr
