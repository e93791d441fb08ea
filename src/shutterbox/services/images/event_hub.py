"""This process's open live-status streams, by user, and what wakes them.

No stream polls. A stream reads its user's images and notifications once when it opens, then
only when woken (``services/images/events.watch``). The process's one ``EventFeed`` wakes the
streams of the users the database names (PostgreSQL: ``NOTIFY`` from triggers, heard on one
``LISTEN`` connection; SQLite: one poller of the ``event_wakeups`` rows, and at once after a
commit in this process), and a slow safety poll (``events_safety_poll_seconds``) wakes every
stream now and then, in case a wake-up was lost. A wake-up carries no event: the stream reads
the rows itself, so a lost wake-up delays an event and never loses it.

A user holds at most ``events_streams_per_user`` streams on a process; one more is refused
with 429 rather than closing the oldest. Each tab of a browser opens its own stream, and
``EventSource`` reconnects by itself when the server ends one: closing the oldest would make
the tabs beyond the cap take the slot from each other every few seconds, each reconnect a
login and a fresh read. A refused ``EventSource`` stays closed, and the pages then ask for
their processing images' status now and then (``static/upload.js``); a tab that closes frees
its slot at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from shutterbox.domain.errors import TooManyStreams
from shutterbox.ports.events import EventFeed
from shutterbox.services.metrics import EVENT_STREAMS, EVENT_WAKEUPS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30  # a guess: a slot frees when another tab closes


@dataclass(eq=False)
class StreamSlot:
    """One open stream: ``woken`` is set when its user may have something new."""

    user_id: int
    woken: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    def __init__(self, feed: EventFeed | None, per_user: int, safety_seconds: float) -> None:
        self.feed = feed
        self.per_user = per_user
        self.safety_seconds = safety_seconds
        self._slots: dict[int, set[StreamSlot]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def open(self, user_id: int) -> StreamSlot:
        """A slot for a new stream of ``user_id``; ``TooManyStreams`` past the cap. Starts
        following the feed with the first stream."""
        slots = self._slots.setdefault(user_id, set())
        if len(slots) >= self.per_user:
            raise TooManyStreams(
                f"too many live-status streams open for this account (at most "
                f"{self.per_user}): close another tab or window showing live status",
                retry_after=RETRY_AFTER_SECONDS,
            )
        slot = StreamSlot(user_id)
        slots.add(slot)
        EVENT_STREAMS.inc()
        if not self._tasks:
            self._start()
        return slot

    def release(self, slot: StreamSlot) -> None:
        """The stream ended (any number of times)."""
        slots = self._slots.get(slot.user_id)
        if slots is None or slot not in slots:
            return
        slots.discard(slot)
        EVENT_STREAMS.dec()
        if not slots:
            del self._slots[slot.user_id]

    def open_streams(self, user_id: int) -> int:
        return len(self._slots.get(user_id, ()))

    def wake(self, user_ids: Collection[int] | None, cause: str = "change") -> None:
        """Wake the streams of ``user_ids`` (None: every stream)."""
        if user_ids is None:
            woken = [slot for slots in self._slots.values() for slot in slots]
            cause = "everyone" if cause == "change" else cause
        else:
            woken = [slot for user in user_ids for slot in self._slots.get(user, ())]
        for slot in woken:
            slot.woken.set()
        if woken:
            EVENT_WAKEUPS.labels(cause).inc(len(woken))

    def _start(self) -> None:
        if self.feed is not None:
            self._tasks.append(asyncio.create_task(self._follow(self.feed)))
        self._tasks.append(asyncio.create_task(self._safety_poll()))

    async def _follow(self, feed: EventFeed) -> None:
        try:
            await feed.follow(self.wake)
        except Exception:  # a bug: the safety poll still wakes the streams
            log.exception("the live-status wake-ups stopped; only the safety poll is left")

    async def _safety_poll(self) -> None:
        while True:
            await asyncio.sleep(self.safety_seconds)
            self.wake(None, cause="safety")

    async def close(self) -> None:
        """Stop following the feed (the streams end on the application's shutdown)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
