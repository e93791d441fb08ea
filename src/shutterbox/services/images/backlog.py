"""Honest back-pressure: when the queue is busy, an upload still succeeds (its original is
safe) and its answer says how long its variants will take: how many new uploads wait before
it, and, from how many images became ready in the last minute, about how many seconds that
is. Worked out at most once every few seconds per process, whatever the rate of uploads."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from weakref import WeakKeyDictionary

from shutterbox.clock import utcnow
from shutterbox.services.context import Services

WINDOW = timedelta(minutes=1)  # how far back the rate of images made ready is measured
FRESH_SECONDS = 2.0  # how long one estimate is reused


@dataclass(frozen=True)
class Backlog:
    queued_ahead: int  # jobs of new uploads waiting
    ready_per_second: float  # images made ready per second over the last minute

    @property
    def expected_seconds(self) -> int | None:
        """About how long a new upload waits and is processed; None if nothing is being made
        ready (no worker is running)."""
        if self.ready_per_second <= 0:
            return None
        return math.ceil((self.queued_ahead + 1) / self.ready_per_second)


# The last estimate of each queue (one per running application), with when it was made.
_recent: WeakKeyDictionary[object, tuple[float, Backlog]] = WeakKeyDictionary()


async def measure(services: Services) -> Backlog:
    now = time.monotonic()
    last = _recent.get(services.queue)
    if last is not None and now - last[0] < FRESH_SECONDS:
        return last[1]
    ahead = await services.queue.waiting_new()
    async with services.metadata.quick_read() as tx:  # one range of an index
        made = await tx.images.ready_since(utcnow() - WINDOW)
    backlog = Backlog(ahead, made / WINDOW.total_seconds())
    _recent[services.queue] = (now, backlog)
    return backlog


async def when_busy(services: Services) -> Backlog | None:
    """The backlog, when more new uploads wait than ``SHUTTERBOX_QUEUE_BUSY_DEPTH``."""
    backlog = await measure(services)
    if backlog.queued_ahead < services.settings.queue_busy_depth:
        return None
    return backlog
