"""Measured egress: the bytes the origin sends, counted in memory and added to the
``egress_daily`` table every few seconds (never a database write per request), and the
bytes edges report they served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from typing import Any

from shutterbox.clock import utcnow
from shutterbox.ports.metadata import Metadata

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
ORIGIN = "origin"
EDGE = "edge"

# The ASGI callables, spelled out so that this module stays free of any web framework.
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

Counts = dict[tuple[date, str], list[int]]  # (day, source) -> [bytes, requests]


class EgressMeter:
    """Bytes and requests per UTC day, in memory until ``flush`` adds them to the table."""

    def __init__(self) -> None:
        self._counts: Counts = {}

    def add(self, nbytes: int, requests: int = 0, *, source: str = ORIGIN) -> None:
        if nbytes <= 0 and requests <= 0:
            return
        entry = self._counts.setdefault((utcnow().date(), source), [0, 0])
        entry[0] += nbytes
        entry[1] += requests

    def pending(self) -> dict[tuple[date, str], tuple[int, int]]:
        """What has not been flushed yet."""
        return {key: (b, r) for key, (b, r) in self._counts.items()}

    def metered(self, scope: MutableMapping[str, Any], send: Send) -> Send:
        """Wrap an ASGI ``send`` so that the body of a 200 or 206 answer is counted as it
        goes out (a 304, a redirect or an error sends no media bytes); a GET that answers
        200 or 206 counts as one request."""
        counting = False
        content_length = 0

        async def send_and_count(message: Message) -> None:
            nonlocal counting, content_length
            kind = message["type"]
            if kind == "http.response.start":
                counting = message["status"] in (200, 206)
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-length":
                        content_length = int(value)
                await send(message)
                if counting and scope.get("method") == "GET":
                    self.add(0, 1)
                return
            await send(message)
            if not counting:
                return
            if kind == "http.response.body":
                self.add(len(message.get("body", b"")))
            elif kind == "http.response.pathsend":  # the server sends the whole file itself
                self.add(content_length)

        return send_and_count

    async def flush(self, db: Metadata) -> None:
        """Add what was counted to ``egress_daily``; on failure the counts are kept for the
        next flush."""
        counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            await add_egress(db, [(day, source, b, r) for (day, source), (b, r) in counts.items()])
        except BaseException:
            for key, (b, r) in counts.items():
                entry = self._counts.setdefault(key, [0, 0])
                entry[0] += b
                entry[1] += r
            raise


async def add_egress(db: Metadata, rows: list[tuple[date, str, int, int]]) -> None:
    """Add (day, source, bytes, requests) to the daily totals: one upsert, on SQLite and on
    PostgreSQL alike, so that every API node and every edge can add to the same day."""
    async with db.write() as tx:
        await tx.egress.add(rows)


async def day_totals(db: Metadata, day: date, source: str) -> tuple[int, int]:
    async with db.read() as tx:
        return await tx.egress.day_totals(day, source)


class EgressFlusher:
    """Flushes a meter every ``every`` seconds in the background, and once more on stop
    (a flush is never interrupted half-way)."""

    def __init__(self, meter: EgressMeter, db: Metadata, every: float = FLUSH_SECONDS) -> None:
        self.meter = meter
        self.db = db
        self.every = every
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="egress-flusher")

    async def _flush(self) -> None:
        try:
            await self.meter.flush(self.db)
        except Exception:
            log.warning("could not record egress; will try again", exc_info=True)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every)
            await self._flush()
            if self._stopping.is_set():
                return

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        else:
            await self._flush()
