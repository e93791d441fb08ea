"""How a live-status stream reads (``events.watch``) against the real database: once when it
opens, then once per wake-up; a keep-alive however often it is woken; and a batch too long
for one read told whole after one wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from shutterbox.clock import utcnow
from shutterbox.domain.social import Notification, NotificationKind
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.images import events
from shutterbox.services.images.event_hub import EventHub
from shutterbox.services.people import accounts
from shutterbox.services.social.live import NewNotification
from shutterbox.services.social.notifications import new_social_id
from tests.support.clients import register

DEADLINE = 30  # seconds: a bound on a hang, not a measure


def _user_id(client: TestClient, name: str) -> int:
    token = register(client, name)["Authorization"].removeprefix("Bearer ")
    metadata = app_state(client.app).services.metadata
    user = client.portal.call(accounts.user_for_token, metadata, token)  # type: ignore[attr-defined]
    return int(user.id)


async def _woken_often_until_a_keepalive(services: Any, user_id: int) -> list[Any]:
    hub = EventHub(None, per_user=5, safety_seconds=3600)
    slot = hub.open(user_id)
    closing = asyncio.Event()

    async def wake_often() -> None:
        while True:
            hub.wake([user_id])
            await asyncio.sleep(0.01)

    waking = asyncio.create_task(wake_often())
    told: list[Any] = []
    try:
        async with asyncio.timeout(DEADLINE):
            async for changed in events.watch(services, slot, closing, idle_seconds=0.3):
                told.append(changed)
                if changed == []:  # the keep-alive
                    break
    finally:
        waking.cancel()
        closing.set()
        hub.release(slot)
        await hub.close()
    return told


def test_a_stream_woken_often_with_nothing_new_still_sends_its_keepalive(client: TestClient):
    services = app_state(client.app).services
    alice = _user_id(client, "alice")
    told = client.portal.call(_woken_often_until_a_keepalive, services, alice)  # type: ignore[attr-defined]
    assert told == [[]]


class CountedReads:
    """The metadata, with each finished read counted."""

    def __init__(self, metadata: Any) -> None:
        self.metadata = metadata
        self.failures = metadata.failures
        self.reads = 0
        self.finished = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.metadata, name)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        async with self.metadata.read() as tx:
            yield tx
        self.reads += 1
        self.finished.set()


async def _one_wakeup_tells_a_long_batch(
    services: Any, user_id: int, actor_id: int
) -> tuple[int, int]:
    counted = CountedReads(services.metadata)
    hub = EventHub(None, per_user=5, safety_seconds=3600)
    slot = hub.open(user_id)
    closing = asyncio.Event()
    stream = events.watch(replace(services, metadata=counted), slot, closing, idle_seconds=3600)
    told = 0
    try:
        async with asyncio.timeout(DEADLINE):
            reading = asyncio.ensure_future(anext(stream))
            await counted.finished.wait()  # the first read: nothing to tell yet
            async with services.metadata.write() as tx:
                start = utcnow()
                for n in range(45):
                    notification = Notification(
                        new_social_id(),
                        user_id,
                        NotificationKind.FOLLOW,
                        start + timedelta(microseconds=n),
                    )
                    await tx.notifications.add(notification, actor_id)
            hub.wake([user_id])  # one wake-up, as the database gives for one transaction
            while True:
                changed = await reading
                told += sum(isinstance(event, NewNotification) for event in changed)
                if told >= 45:
                    break
                reading = asyncio.ensure_future(anext(stream))
    finally:
        closing.set()
        hub.release(slot)
        await hub.close()
    return told, counted.reads


def test_a_batch_longer_than_one_read_is_told_whole_after_one_wakeup(client: TestClient):
    services = app_state(client.app).services
    alice, bob = _user_id(client, "alice"), _user_id(client, "bob")
    told, reads = client.portal.call(_one_wakeup_tells_a_long_batch, services, alice, bob)  # type: ignore[attr-defined]
    assert told == 45
    assert reads == 1 + 3  # when it opened, then 20, 20 and 5 for the one wake-up
