"""The trash: deleted images stay restorable by their owner until the retention has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shutterbox.domain.errors import Gone, NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.images.cursors import decode_cursor, encode_position
from shutterbox.services.images.deletion import trash_cutoff


async def restore_from_trash(services: Services, user: User, image_id: str) -> Image:
    async with services.metadata.write() as tx:
        image = await tx.images.get(image_id)
        if image is None or image.owner_id != user.id:
            raise NotFound("no such image")
        if image.deleted_at is None:
            return image  # not in the trash: restoring it again changes nothing
        if not await tx.images.restore_deleted(image_id, trash_cutoff(services)):
            days = services.settings.trash_retention_days
            raise Gone(f"this image was deleted more than {days:g} days ago and cannot be restored")
        restored = await tx.images.get(image_id)
    assert restored is not None
    return restored


@dataclass
class TrashPage:
    items: list[Image]
    next_cursor: str | None


def purge_at(services: Services, image: Image) -> datetime:
    """When the trashed image's bytes go for good."""
    assert image.deleted_at is not None
    return image.deleted_at + timedelta(days=services.settings.trash_retention_days)


async def list_trash(services: Services, user: User, limit: int, cursor: str | None) -> TrashPage:
    async with services.metadata.read() as tx:
        items = await tx.images.list_trash(user.id, limit=limit + 1, cursor=decode_cursor(cursor))
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if more and items else None
    next_cursor = None
    if last is not None and last.deleted_at is not None:
        next_cursor = encode_position(last.deleted_at, last.id)
    return TrashPage(items, next_cursor)
