"""How a `shutterbox` command ends its process.

The object-store client (obstore, over a Tokio runtime) and libvips keep native worker
threads that Python's interpreter shutdown neither stops nor waits for. When one of them
calls into the interpreter while it is being torn down, the process aborts (SIGABRT): a
scrub or a backup that did all its work and printed its report would still end with status
134, and a script or timer checking that status would report a failure that did not happen.

So a command that has returned (or asked for an exit status) ends the process itself, once
its output is written: standard streams and log handlers are flushed and closed, then
``os._exit`` ends the process with the command's status, without the interpreter shutdown.
Every command closes what it opened (databases, queues, temporary files) before it returns.
An exception that escapes a command is left to Python, which prints it and exits with 1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

BAD_STATUS = 1  # a message given as the exit status, as Python does with sys.exit("...")


def exit_status(code: object) -> int:
    """The process exit status for ``SystemExit(code)``; a message is written to stderr."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return BAD_STATUS


def run_then_exit(command: Callable[[], object]) -> None:
    """Run ``command`` and end the process with its status (see the module's text)."""
    try:
        command()
    except SystemExit as requested:
        status = exit_status(requested.code)
    else:
        status = 0
    end_process(status)


def end_process(status: int) -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`shutterbox ... | head`), a closed stream
            status = status or BAD_STATUS
    os._exit(status)
