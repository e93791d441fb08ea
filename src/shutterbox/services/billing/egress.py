"""Measured egress: the bytes the origin sends, counted in memory and added to the
``egress_daily`` table every few seconds (never a database write per request), and the
bytes edges report they served.

The meter is built once by ``bootstrap`` (``Services.egress_meter``); the ASGI ``send``
wrapper that feeds it the media answers is
``shutterbox.entrypoints.http.middleware.egress_metering``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date

from shutterbox.clock import utcnow
from shutterbox.ports.metadata import Metadata

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
ORIGIN = "origin"
EDGE = "edge"

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

    async def flush(self, metadata: Metadata) -> None:
        """Add what was counted to ``egress_daily``; on failure the counts are kept for the
        next flush."""
        counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            await add_egress(
                metadata, [(day, source, b, r) for (day, source), (b, r) in counts.items()]
            )
        except BaseException:
            for key, (b, r) in counts.items():
                entry = self._counts.setdefault(key, [0, 0])
                entry[0] += b
                entry[1] += r
            raise


async def add_egress(metadata: Metadata, rows: list[tuple[date, str, int, int]]) -> None:
    """Add (day, source, bytes, requests) to the daily totals: one upsert, on SQLite and on
    PostgreSQL alike, so that every API node and every edge can add to the same day."""
    async with metadata.write() as tx:
        await tx.egress.add(rows)


async def day_totals(metadata: Metadata, day: date, source: str) -> tuple[int, int]:
    async with metadata.read() as tx:
        return await tx.egress.day_totals(day, source)


class EgressFlusher:
    """Flushes a meter every ``every`` seconds in the background, and once more on stop
    (a flush is never interrupted half-way)."""

    def __init__(
        self, meter: EgressMeter, metadata: Metadata, every: float = FLUSH_SECONDS
    ) -> None:
        self.meter = meter
        self.metadata = metadata
        self.every = every
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="egress-flusher")

    async def _flush(self) -> None:
        try:
            await self.meter.flush(self.metadata)
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
