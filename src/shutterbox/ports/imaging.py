"""The imaging port: where picture work runs. The real one is a pool of sandboxed child
processes (``adapters/imaging_sandbox.SandboxPool``: an address-space and a time limit per
picture); tests may run the same functions in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class ImagingRunner(Protocol):
    async def call(self, target: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``target`` (a module-level function of ``adapters/imaging.py``) on the
        picture; ``ImageRejected`` for a picture that cannot be processed within the limits."""
        ...

    def close(self) -> None: ...
