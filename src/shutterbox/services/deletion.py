"""Deleting an image: gone from every read at once, bytes reclaimed by a background job."""

from __future__ import annotations

from shutterbox.adapters.db import repository
from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.images import FORMAT_EXTENSIONS, VARIANT_NAMES, variant_key
from shutterbox.domain.users import User
from shutterbox.services import purge
from shutterbox.services.context import Services
from shutterbox.services.media_urls import image_media_paths

RECLAIM_IMAGE = "reclaim_image"


async def delete_image(services: Services, user: User, image_id: str) -> None:
    async with services.db.writer.begin() as conn:
        image = await repository.get_image(conn, image_id)
        if image is None or not image.visible_to(user.id):
            raise NotFound("no such image")
        if image.owner_id != user.id:
            raise Forbidden("only the owner can delete this image")
        await repository.mark_deleted(conn, image_id, utcnow())
        job_id = await services.queue.enqueue(
            conn,
            RECLAIM_IMAGE,
            image_id,
            delay_seconds=services.settings.trash_retention_seconds,
        )
    await services.queue.dispatch([job_id])
    paths = image_media_paths(image)
    if await purge.purge_paths(services, paths):  # an edge did not confirm: keep trying
        async with services.db.writer.begin() as conn:
            purge_job = await services.queue.enqueue(
                conn, purge.PURGE_MEDIA, image_id, {"paths": paths}
            )
        await services.queue.dispatch([purge_job])


async def reclaim_image(services: Services, image_id: str) -> None:
    """Remove a deleted image's blobs, then its row. Safe to run again."""
    async with services.db.reader.connect() as conn:
        image = await repository.get_image(conn, image_id)
    if image is None or image.deleted_at is None:
        return
    keys = {image.original_key}
    keys.update(v.key for v in image.all_variants())
    keys.update(
        variant_key(image.id, image.created_at, name, extension)
        for name in VARIANT_NAMES
        for extension in FORMAT_EXTENSIONS.values()
    )
    for key in sorted(keys):
        await services.store.delete(key)
    async with services.db.writer.begin() as conn:
        await repository.remove_image(conn, image_id)
