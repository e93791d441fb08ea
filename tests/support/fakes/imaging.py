"""An imaging runner with the interface of `adapters.imaging_sandbox.SandboxPool` that runs
the imaging function in the calling process (in a thread, as the pool does): no child, so
unit tests of the services need not start the sandbox.

It keeps the pool's contract where it can without a child (tests/contract/
test_imaging_sandbox.py runs the same cases against both): module-level functions as targets,
`ImageRejected` passed through, `MemoryError` refused as a picture needing more memory, any
other error raised as `RuntimeError("Type: message")`, and a call that took longer than the
time limit refused (after the fact: a thread cannot be stopped). The memory limit is not
enforced and a crash takes the test process with it; those cases are the sandbox's alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio

from shutterbox.domain.errors import ImageRejected


class InProcessImaging:
    """`SandboxPool` without the sandbox; ``calls`` records the names of the targets called,
    in order (``module:function``)."""

    def __init__(self, memory_limit_mb: int = 1024, time_limit_seconds: float = 60.0) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.time_limit_seconds = time_limit_seconds
        self.calls: list[str] = []
        self.closed = False

    def _call(
        self, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        self.calls.append(f"{target.__module__}:{target.__qualname__}")
        started = time.monotonic()
        try:
            value = target(*args, **kwargs)
        except ImageRejected:
            raise
        except MemoryError as error:
            raise ImageRejected(
                "the picture needs more memory to process than this server allows"
            ) from error
        except Exception as error:
            raise RuntimeError(f"{type(error).__name__}: {error}") from error
        if time.monotonic() - started > self.time_limit_seconds:
            raise ImageRejected(
                "processing the picture took longer than the limit of "
                f"{self.time_limit_seconds:g} seconds"
            )
        return value

    async def call(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(self._call, target, args, kwargs)

    def close(self) -> None:
        self.closed = True
