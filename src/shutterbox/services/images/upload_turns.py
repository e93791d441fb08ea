"""One request at a time for each resumable upload, in this process.

A client whose connection dropped comes back at once and asks where its upload stands, often
before the server has noticed that the old request's connection is gone. So a request for an
upload that another request is working on first asks that one to stop where it is (it keeps
the bytes that arrived), then waits for its turn: the answer it gets counts those bytes, and
the client goes on from there instead of sending them again. Requests that reach different
processes are kept apart by the database instead (each part is recorded by compare-and-set).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio

from shutterbox.domain.errors import Conflict

WAIT_SECONDS = 30.0  # for the request holding the upload to let go


class Stopped(Exception):
    """Raised by ``until_stopped`` when a newer request for the same upload took over."""


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0


_turns: dict[str, _Turn] = {}


@asynccontextmanager
async def turn(upload_id: str) -> AsyncIterator[asyncio.Event]:
    """Hold ``upload_id`` for this request; the event is set when a newer one asks for it."""
    entry = _turns.setdefault(upload_id, _Turn())
    entry.waiting += 1
    try:
        if entry.lock.locked():
            entry.stop.set()  # ask the request holding it to stop where it is
        try:
            with anyio.fail_after(WAIT_SECONDS):
                await entry.lock.acquire()
        except TimeoutError as exc:
            raise Conflict("another request for this upload is still running") from exc
        entry.stop = asyncio.Event()
        try:
            yield entry.stop
        finally:
            entry.lock.release()
    finally:
        entry.waiting -= 1
        if entry.waiting == 0:
            _turns.pop(upload_id, None)


async def until_stopped(chunks: AsyncIterator[bytes], stop: asyncio.Event) -> AsyncIterator[bytes]:
    """``chunks`` until they end, or ``Stopped`` as soon as ``stop`` is set (even while the
    next chunk is awaited from a client that went silent)."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            following = asyncio.ensure_future(anext(chunks))
            await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await following
                raise Stopped
            try:
                chunk = following.result()
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        stopping.cancel()
