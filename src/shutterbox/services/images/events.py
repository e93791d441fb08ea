"""Live status of a user's own images, for the pages: which are processing, ready or failed.

Workers may run in other processes or on other machines, so the source of truth is the
database. A stream does not poll it: it reads once when it opens, then each time its slot in
the process's ``EventHub`` is woken (``event_hub.py``: the database names the users with
something new), with one indexed query for the owner's images that can change or just did,
and compares the answer with what it saw the last time. The query reads only

* the owner's images created in the last few minutes (the owner index, by creation time),
* the owner's images that are processing or failed (the status index; failed images are
  removed after their retention period, so both sets stay small), and
* the images this stream last saw processing or failed (by primary key), to see them finish,

so its cost follows the number of recent images, not the size of the owner's library. A
stream that connects late is first told about every image that is processing or changed in
the last few minutes.

Open streams end when the client goes away and when the server shuts down: ``watch`` ends
once its ``closing`` event is set (by
``shutterbox.entrypoints.http.middleware.stream_closing.StreamCloser``, from the exit signal
and from the application's shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from shutterbox.clock import utcnow
from shutterbox.domain.images import Status
from shutterbox.ports.metadata import ImageState, Transaction
from shutterbox.services.context import Services
from shutterbox.services.images.event_hub import StreamSlot
from shutterbox.services.metrics import EVENT_STREAM_READS
from shutterbox.services.social.live import NewNotification, NotificationWatch

log = logging.getLogger(__name__)

# How far back a new stream looks, and how long a new image is watched by its creation time.
RECENT = timedelta(minutes=5)
_UNSETTLED = (Status.PROCESSING.value, Status.FAILED.value)
# The least time between two reads of one stream: a burst of changes is told in a few reads.
LEAST_GAP_SECONDS = 0.2


@dataclass(frozen=True)
class ImageStatus:
    """What a page needs to update one image's card."""

    id: str
    status: str
    failure_reason: str | None
    thumb_url: str | None  # the thumb variant's URL (as the image's JSON gives it), once ready

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Seen:
    status: str
    failure_reason: str | None
    processed_at: datetime | None


class StatusWatch:
    """One owner's images as one stream last saw them."""

    def __init__(self, services: Services, owner_id: int) -> None:
        self.services = services
        self.owner_id = owner_id
        self._seen: dict[str, _Seen] = {}
        self._first = True

    async def _changing(self, tx: Transaction, now: datetime) -> list[ImageState]:
        watched = [i for i, seen in self._seen.items() if seen.status in _UNSETTLED]
        rows = await tx.images.changing(self.owner_id, now - RECENT, watched)
        # deleted images are left out here, not by the index
        return [r for r in rows if r.deleted_at is None]

    async def poll(self) -> list[ImageStatus]:
        """The images that changed since the last poll; on the first, the ones processing or
        changed in the last few minutes."""
        async with self.services.metadata.read() as tx:
            return await self.poll_in(tx)

    async def poll_in(self, tx: Transaction) -> list[ImageStatus]:
        """``poll`` in a read that is already open."""
        now = utcnow()
        recent = now - RECENT
        rows = await self._changing(tx, now)
        seen: dict[str, _Seen] = {}
        changed: list[ImageState] = []
        for row in sorted(rows, key=lambda r: (r.created_at, r.id)):
            state = _Seen(row.status, row.failure_reason, row.processed_at)
            seen[row.id] = state
            if self._first:
                latest = max(row.created_at, row.processed_at or row.created_at)
                if row.status == Status.PROCESSING.value or latest >= recent:
                    changed.append(row)
            elif self._seen.get(row.id) != state:
                changed.append(row)
        events = [await self._event(tx, row) for row in changed]
        self._seen = seen
        self._first = False
        return events

    async def _event(self, tx: Transaction, row: ImageState) -> ImageStatus:
        thumb_url = None
        if row.status == Status.READY.value:
            image = await tx.images.get(row.id)
            thumb = image.variants.get("thumb") if image else None
            if image is not None and thumb is not None:
                thumb_url = self.services.media_urls.for_file(image, "thumb", thumb.sha256)
        return ImageStatus(row.id, row.status, row.failure_reason, thumb_url)


async def watch(
    services: Services, slot: StreamSlot, closing: asyncio.Event, idle_seconds: float
) -> AsyncIterator[list[ImageStatus | NewNotification]]:
    """The owner's images that changed and their new notifications, both in one read: at
    once, then after each wake-up of ``slot`` that finds something (at most one read every
    ``LEAST_GAP_SECONDS``, however many wake-ups come), and an empty list after
    ``idle_seconds`` with nothing to tell (for a keep-alive); until ``closing`` is set. Ends
    early, after logging, if the database cannot be read: the client reconnects and is told
    the current state again."""
    owner_id = slot.user_id
    status_watch = StatusWatch(services, owner_id)
    notification_watch = NotificationWatch(owner_id)
    unreadable: tuple[type[Exception], ...] = (*services.metadata.failures, OSError)
    told = time.monotonic()
    while not closing.is_set():
        slot.woken.clear()  # a wake-up during the read reads again
        EVENT_STREAM_READS.inc()
        try:
            async with services.metadata.read() as tx:
                changed: list[ImageStatus | NewNotification] = [
                    *await status_watch.poll_in(tx),
                    *await notification_watch.poll_in(tx),
                ]
        except unreadable:
            log.warning("status stream for user %s stopped: cannot read images", owner_id)
            return
        if changed or time.monotonic() - told >= idle_seconds:  # wake-ups may come often
            yield changed
            told = time.monotonic()
        if notification_watch.more:
            slot.woken.set()
        if await _first_set(LEAST_GAP_SECONDS, closing):
            return
        while not slot.woken.is_set():
            idle = told + idle_seconds - time.monotonic()
            if idle <= 0:
                yield []
                told = time.monotonic()
                continue
            if await _first_set(idle, closing, slot.woken) is closing:
                return


async def _first_set(timeout: float, *events: asyncio.Event) -> asyncio.Event | None:
    """The first of ``events`` to be set within ``timeout`` seconds, or None."""
    for event in events:
        if event.is_set():
            return event
    waiters = {asyncio.ensure_future(event.wait()): event for event in events}
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return next((waiters[waiter] for waiter in done), None)
