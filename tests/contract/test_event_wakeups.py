"""The database names whose live-status streams have something new (the triggers of
migration 0020), and each process's one feed hears it: on PostgreSQL a LISTEN connection
(which comes back when it is cut), on SQLite a poller of ``event_wakeups``. The writes come
from another process's ``SqlMetadata``, as a worker's would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import text

from shutterbox.adapters.db.event_feeds import APPLICATION_NAME, open_event_feed
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.domain.images import Image, Status, Variant
from shutterbox.domain.social import Notification, NotificationKind
from tests.support.images import make_image

T0 = datetime(2024, 5, 1, 12, 0, 0)
HEARD_WITHIN = 15  # seconds: a deadline, not a measure
Heard = list[int] | None


def _image(name: str, owner_id: int) -> Image:
    return make_image(
        id=name,
        owner_id=owner_id,
        owner_username="someone",
        status=Status.PROCESSING,
        created_at=T0,
        original_key=f"originals/{name}.jpg",
        original_bytes=1000,
        original_sha256=name.rjust(64, "0"),
    )


def _thumb(image_id: str) -> list[Variant]:
    return [Variant("thumb", f"v/{image_id}.jpg", "image/jpeg", 9, 9, 9, "a" * 64)]


def _notification(recipient_id: int, n: int) -> Notification:
    return Notification(
        f"note{recipient_id}-{n}", recipient_id, NotificationKind.PROCESSING_FAILED, T0
    )


class Listening:
    """A feed followed in the background; what it heard, without the probe user's wake-ups."""

    def __init__(self, probe: int) -> None:
        self.probe = probe
        self.queue: asyncio.Queue[Heard] = asyncio.Queue()
        self.probed = asyncio.Event()

    def wake(self, users: Collection[int] | None) -> None:
        if users is not None and set(users) == {self.probe}:
            self.probed.set()
            return
        self.queue.put_nowait(None if users is None else sorted(users))

    async def next(self) -> Heard:
        return await asyncio.wait_for(self.queue.get(), HEARD_WITHIN)


@asynccontextmanager
async def _following(
    listening_db: SqlMetadata, writer: SqlMetadata, probe_image: str, probe: int
) -> AsyncIterator[Listening]:
    """The feed of ``listening_db``, followed once it is known to hear: the probe user's
    image changes status until the feed names them."""
    feed = open_event_feed(listening_db.db, poll_seconds=0.05, check_seconds=30)
    listening = Listening(probe)
    task = asyncio.create_task(feed.follow(listening.wake))
    try:
        async with asyncio.timeout(HEARD_WITHIN):
            while not listening.probed.is_set():
                async with writer.write() as tx:
                    await tx.images.mark_failed(probe_image, "probe", T0)
                    await tx.images.mark_processing_again(probe_image)
                await asyncio.sleep(0.05)
        yield listening
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _people(writer: SqlMetadata) -> tuple[int, int, int]:
    async with writer.write() as tx:
        ann = await tx.users.create("ann", "x", is_admin=False, created_at=T0)
        ben = await tx.users.create("ben", "x", is_admin=False, created_at=T0)
        probe = await tx.users.create("probe", "x", is_admin=False, created_at=T0)
        await tx.images.insert(_image("probe", probe.id))
    return ann.id, ben.id, probe.id


class Undone(Exception):
    pass


async def test_each_change_a_stream_reports_names_its_user_and_nothing_else_does(
    two_processes: tuple[SqlMetadata, SqlMetadata],
) -> None:
    listening_db, writer = two_processes
    ann, ben, probe = await _people(writer)
    lake = _image("lake", ann)

    async def undone(tx: Any) -> None:
        await tx.images.mark_failed("lake", "never committed", T0)
        raise Undone

    # Each change, and whom it should name (None: nobody; ben's next change shows it did not).
    changes: list[tuple[Callable[[Any], Awaitable[Any]], int | None]] = [
        (lambda tx: tx.images.insert(lake), ann),
        (lambda tx: tx.images.mark_failed("lake", "broken", T0), ann),
        (lambda tx: tx.images.mark_processing_again("lake"), ann),
        (lambda tx: tx.images.save_processed("lake", {"width": 9}, _thumb("lake")), ann),
        (lambda tx: tx.images.update_details(lake, {"caption": "a lake"}), None),
        (lambda tx: tx.notifications.add(_notification(ben, 1), None), ben),
        (undone, None),
        (lambda tx: tx.images.mark_deleted("lake", T0), ann),
        (lambda tx: tx.images.restore_deleted("lake", datetime(2000, 1, 1)), ann),
    ]
    async with _following(listening_db, writer, "probe", probe) as listening:
        for n, (change, named) in enumerate(changes):
            try:
                async with writer.write() as tx:
                    await change(tx)
            except Undone:
                pass
            if named is None:  # a change that names nobody, then one that names ben
                async with writer.write() as tx:
                    await tx.notifications.add(_notification(ben, 100 + n), None)
                named = ben
            assert await listening.next() == [named], n

        # Two changes of one user in one transaction, then two users in one: one wake-up each.
        async with writer.write() as tx:
            await tx.images.mark_failed("lake", "again", T0)
            await tx.notifications.add(_notification(ann, 2), None)
        assert await listening.next() == [ann]
        async with writer.write() as tx:
            await tx.notifications.add(_notification(ann, 3), None)
            await tx.notifications.add(_notification(ben, 3), None)
        heard = await listening.next()  # SQLite reads both rows at once; PostgreSQL: in turn
        if heard == [ann]:
            heard = [ann, *(await listening.next() or [])]
        assert heard == [ann, ben]


async def test_the_feed_comes_back_after_losing_the_database_and_wakes_everyone(
    two_processes: tuple[SqlMetadata, SqlMetadata],
) -> None:
    """PostgreSQL: the listener's connection is cut (``pg_terminate_backend``); it reconnects,
    wakes every stream (what was sent meanwhile is gone), and hears changes again. SQLite:
    rows dropped before the poller read them (a gap in their numbers) wake everyone too."""
    listening_db, writer = two_processes
    ann, _ben, probe = await _people(writer)
    async with writer.write() as tx:
        await tx.images.insert(_image("lake", ann))
    async with _following(listening_db, writer, "probe", probe) as listening:
        async with writer.write() as tx:
            if writer.dialect == "postgresql":
                cut = await tx.connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                )
                assert cut.scalar_one() == 1
            else:
                await tx.connection.execute(
                    text(
                        "INSERT INTO event_wakeups (seq, user_id) "
                        "SELECT max(seq) + 5, :ann FROM event_wakeups"
                    ),
                    {"ann": ann},
                )
        assert await listening.next() is None
        async with writer.write() as tx:
            await tx.images.mark_failed("lake", "after the reconnect", T0)
        assert await listening.next() == [ann]
