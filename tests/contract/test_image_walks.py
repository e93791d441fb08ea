"""Reading many images by id, or every image, without one statement or one list for all:
the walks of reprocessing and the look-ups of the batch commands, on every adapter."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from shutterbox.ports.metadata import Metadata
from shutterbox.services.images import lookup
from tests.contract.test_metadata import (
    T0,
    _image,
    _user,
    metadata,  # noqa: F401  (the fixture: every adapter)
)


def _services(metadata: Metadata) -> Any:  # noqa: F811
    return SimpleNamespace(metadata=metadata)  # what the look-ups use of the services


async def _library(metadata: Metadata) -> list[str]:  # noqa: F811
    """Five live images (one failed at T0 + 1 h, one at T0 + 2 h) and one in the trash."""
    alice = await _user(metadata, "alice")
    async with metadata.write() as tx:
        for n in range(6):
            await tx.images.insert(_image(alice, n))
        await tx.images.mark_deleted("img0005", T0)
        await tx.images.mark_failed("img0001", "cut off", T0 + timedelta(hours=1))
        await tx.images.mark_failed("img0003", "too large", T0 + timedelta(hours=2))
    return [f"img{n:04d}" for n in range(5)]


async def test_a_walk_reads_every_live_image_a_page_at_a_time(
    metadata: Metadata,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = await _library(metadata)
    monkeypatch.setattr(lookup, "IDS_PER_QUERY", 2)
    services = _services(metadata)
    pages = [page async for page in lookup.walk_live_ids(services, failed_only=False)]
    assert pages == [live[0:2], live[2:4], live[4:5]]
    failed = [page async for page in lookup.walk_live_ids(services, failed_only=True)]
    assert failed == [["img0001", "img0003"]]
    # a resumed batch: those processed since it began are left out
    later = [
        page
        async for page in lookup.walk_live_ids(
            services, failed_only=False, processed_before=T0 + timedelta(minutes=90)
        )
    ]
    assert later == [["img0000", "img0001"], ["img0002", "img0004"]]
    async with metadata.read() as tx:
        assert await tx.images.live_ids(None, failed_only=False, after="img0003", limit=9) == [
            "img0004"
        ]


async def test_failures_since_a_moment_are_counted_and_the_latest_listed(
    metadata: Metadata,  # noqa: F811
) -> None:
    await _library(metadata)
    services = _services(metadata)
    count, latest = await lookup.failed_since(services, T0, 1)
    assert count == 2 and [(s.id, s.failure_reason) for s in latest] == [("img0003", "too large")]
    count, latest = await lookup.failed_since(services, T0 + timedelta(minutes=90), 10)
    assert count == 1 and [s.id for s in latest] == ["img0003"]
    assert await lookup.failed_since(services, T0 + timedelta(hours=3), 10) == (0, [])


async def test_more_ids_than_one_statement_may_carry_are_read_in_parts(
    metadata: Metadata,  # noqa: F811
) -> None:
    live = await _library(metadata)
    # PostgreSQL's protocol carries at most 32,767 parameters in one statement
    asked = [f"gone{n:05d}" for n in range(40_000)] + live + ["img0005"]
    services = _services(metadata)
    assert await lookup.live_ids(services, asked) == live
    states = await lookup.states(services, asked)
    assert sorted(s.id for s in states) == [*live, "img0005"]  # the trashed one too
    trashed = await lookup.find_image(services, "img0005")
    assert trashed is not None and trashed.deleted_at == T0
