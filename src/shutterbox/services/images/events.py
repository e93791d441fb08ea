"""Live status of a user's own images, for the pages: which are processing, ready or failed.

Workers may run in other processes or on other machines, so the source of truth is the
database: each open stream polls it (``SHUTTERBOX_EVENTS_POLL_SECONDS``) with one indexed
query for the owner's images that can change or just did, and compares the answer with what
it saw the last time. The query reads only

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
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from shutterbox.clock import utcnow
from shutterbox.domain.images import Status
from shutterbox.ports.metadata import ImageState, Transaction
from shutterbox.services.context import Services
from shutterbox.services.social.live import NewNotification, NotificationWatch

log = logging.getLogger(__name__)

# How far back a new stream looks, and how long a new image is watched by its creation time.
RECENT = timedelta(minutes=5)
_UNSETTLED = (Status.PROCESSING.value, Status.FAILED.value)


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
    services: Services, owner_id: int, closing: asyncio.Event
) -> AsyncIterator[list[ImageStatus | NewNotification]]:
    """Every ``events_poll_seconds``, the owner's images that changed and their new
    notifications (often none), both in one read, until ``closing`` is set. Ends early, after
    logging, if the database cannot be read: the client reconnects and is told the current
    state again."""
    status_watch = StatusWatch(services, owner_id)
    notification_watch = NotificationWatch(owner_id)
    interval = services.settings.events_poll_seconds
    unreadable: tuple[type[Exception], ...] = (*services.metadata.failures, OSError)
    while not closing.is_set():
        try:
            async with services.metadata.read() as tx:
                changed: list[ImageStatus | NewNotification] = [
                    *await status_watch.poll_in(tx),
                    *await notification_watch.poll_in(tx),
                ]
        except unreadable:
            log.warning("status stream for user %s stopped: cannot read images", owner_id)
            return
        yield changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await closing.wait()
