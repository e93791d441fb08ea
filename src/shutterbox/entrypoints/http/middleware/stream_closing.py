"""Ending open event streams when the server exits.

An HTTP server waits for open responses to finish before it runs the application's shutdown,
so a Server-Sent Events stream would keep it waiting: ``StreamCloser`` is set from the exit
signal itself, and again from the application's shutdown.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any


class StreamCloser:
    """Tells open event streams to end: when the server is asked to exit (SIGTERM, SIGINT)
    and when the application shuts down.

    ``install`` chains a handler in front of the server's own exit-signal handlers (only in
    the main thread, and only where one is installed): the server still does what it always
    does, and the streams end at once, so that it is not left waiting for them.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self._previous: dict[int, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            previous = signal.getsignal(signum)
            if callable(previous):
                self._previous[signum] = previous
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.closing.set)
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)

    def close(self) -> None:
        """End every stream and put the previous signal handlers back."""
        self.closing.set()
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._on_signal:
                signal.signal(signum, previous)
        self._previous.clear()
