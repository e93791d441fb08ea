"""Reading images and users by id or name, for the routes, the pages and the batch commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.ports.metadata import ImageState, VariantFiles
from shutterbox.services.context import Services


async def find_image(services: Services, image_id: str) -> Image | None:
    """The image with its variants, deleted or not; None if there is no such image."""
    async with services.metadata.quick_read() as tx:
        return await tx.images.get(image_id)


async def variant_files(services: Services, image_id: str, name: str) -> VariantFiles | None:
    """What serving a variant needs (one indexed look-up); None if there is no such image."""
    return await services.metadata.variant_files(image_id, name)


async def find_user(services: Services, username: str) -> User | None:
    async with services.metadata.quick_read() as tx:
        return await tx.users.by_name(username.lower())


# Ids asked for in one statement at most (a database takes a bounded number of parameters:
# PostgreSQL's protocol 32,767), and the images a walk over every image reads at a time.
IDS_PER_QUERY = 1_000


async def live_ids(
    services: Services, ids: Sequence[str], *, processed_before: datetime | None = None
) -> list[str]:
    """The undeleted images of ``ids`` (in id order), not those processed since
    ``processed_before``."""
    found: list[str] = []
    async with services.metadata.read() as tx:
        for start in range(0, len(ids), IDS_PER_QUERY):
            found += await tx.images.live_ids(
                ids[start : start + IDS_PER_QUERY],
                failed_only=False,
                processed_before=processed_before,
            )
    return sorted(found)


async def walk_live_ids(
    services: Services, *, failed_only: bool, processed_before: datetime | None = None
) -> AsyncIterator[list[str]]:
    """Every undeleted image (every failed one when ``failed_only``), not those processed
    since ``processed_before``, a page of ids at a time in id order: each page a short read
    of the primary key, however many images there are."""
    after: str | None = None
    while True:
        async with services.metadata.read() as tx:
            page = await tx.images.live_ids(
                None,
                failed_only=failed_only,
                processed_before=processed_before,
                after=after,
                limit=IDS_PER_QUERY,
            )
        if page:
            yield page
        if len(page) < IDS_PER_QUERY:
            return
        after = page[-1]


async def states(services: Services, ids: Sequence[str]) -> list[ImageState]:
    """Status, failure reason and times of the images of ``ids`` that exist."""
    found: list[ImageState] = []
    async with services.metadata.read() as tx:
        for start in range(0, len(ids), IDS_PER_QUERY):
            found += await tx.images.states(ids[start : start + IDS_PER_QUERY])
    return found


async def failed_since(
    services: Services, moment: datetime, shown: int
) -> tuple[int, list[ImageState]]:
    """How many undeleted images failed processing since ``moment``, and ``shown`` of them."""
    async with services.metadata.read() as tx:
        return await tx.images.failed_since(moment, shown)


async def ready_since(services: Services, moment: datetime) -> int:
    """How many images became ready since ``moment``."""
    async with services.metadata.read() as tx:
        return await tx.images.ready_since(moment)
