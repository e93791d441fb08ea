"""Reading images and users by id or name, for the routes, the pages and the batch commands."""

from __future__ import annotations

from collections.abc import Sequence
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


async def live_ids(
    services: Services,
    ids: Sequence[str] | None,
    *,
    failed_only: bool,
    processed_before: datetime | None = None,
) -> list[str]:
    """Undeleted images, oldest first: those of ``ids`` that exist (every one when None), or
    every failed one when ``failed_only``; not those processed since ``processed_before``."""
    async with services.metadata.read() as tx:
        return await tx.images.live_ids(
            ids, failed_only=failed_only, processed_before=processed_before
        )


async def states(services: Services, ids: Sequence[str]) -> list[ImageState]:
    """Status, failure reason and times of the images of ``ids`` that exist."""
    async with services.metadata.read() as tx:
        return await tx.images.states(ids)
