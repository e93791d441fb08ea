"""The process's live-status streams: a wake-up reaches only the streams of the users it
names, a user holds at most the cap, and a feed that fails leaves the safety poll."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import pytest

from shutterbox.domain.errors import TooManyStreams
from shutterbox.ports.events import Wake
from shutterbox.services.images.event_hub import EventHub


class ScriptedFeed:
    """Names the users it is given once the hub follows it, then waits to be cancelled."""

    def __init__(self, *wakes: Collection[int] | None) -> None:
        self.wakes = wakes
        self.following = asyncio.Event()

    async def follow(self, wake: Wake) -> None:
        for users in self.wakes:
            wake(users)
        self.following.set()
        await asyncio.Event().wait()


class BrokenFeed:
    async def follow(self, wake: Wake) -> None:
        raise RuntimeError("a bug in the feed")


async def test_a_wake_up_reaches_only_the_streams_of_the_users_it_names():
    hub = EventHub(None, per_user=3, safety_seconds=3600)
    try:
        alice = [hub.open(1), hub.open(1)]
        bob = hub.open(2)
        hub.wake([1, 99])  # 99 has no stream here
        assert all(slot.woken.is_set() for slot in alice)
        assert not bob.woken.is_set()
        hub.wake(None)
        assert bob.woken.is_set()
    finally:
        await hub.close()


async def test_the_feed_is_followed_from_the_first_stream_on():
    feed = ScriptedFeed([2])
    hub = EventHub(feed, per_user=3, safety_seconds=3600)
    try:
        alice, bob = hub.open(1), hub.open(2)
        await feed.following.wait()
        assert bob.woken.is_set() and not alice.woken.is_set()
    finally:
        await hub.close()


async def test_a_user_holds_at_most_the_cap_and_a_closed_stream_frees_its_slot():
    hub = EventHub(None, per_user=2, safety_seconds=3600)
    try:
        first, _second = hub.open(1), hub.open(1)
        with pytest.raises(TooManyStreams) as refused:
            hub.open(1)
        assert refused.value.status == 429
        assert refused.value.code == "too_many_streams"
        assert "at most 2" in refused.value.message
        other = hub.open(2)  # the cap is per user
        hub.release(first)
        hub.release(first)  # twice: still one slot freed
        assert hub.open_streams(1) == 1
        hub.open(1)
        assert hub.open_streams(1) == 2
        hub.release(other)
        assert hub.open_streams(2) == 0
    finally:
        await hub.close()


async def test_the_safety_poll_wakes_every_stream_even_when_the_feed_fails():
    hub = EventHub(BrokenFeed(), per_user=2, safety_seconds=0.01)
    try:
        slots = [hub.open(1), hub.open(2)]
        for slot in slots:
            await slot.woken.wait()
        assert all(slot.woken.is_set() for slot in slots)
    finally:
        await hub.close()
