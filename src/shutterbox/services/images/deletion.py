"""Deleting an image: gone from every read at once, into its owner's trash; the bytes are
reclaimed when the trash retention has passed (at once when it is 0)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.images import FORMAT_EXTENSIONS, VARIANT_NAMES, Image, variant_key
from shutterbox.domain.jobs import JobKind
from shutterbox.domain.users import User
from shutterbox.ports import Job
from shutterbox.services.context import Services
from shutterbox.services.delivery import purge
from shutterbox.services.delivery.media_urls import image_media_paths
from shutterbox.services.job_handler import JobHandler


async def delete_image(services: Services, user: User, image_id: str) -> None:
    async with services.metadata.write() as tx:
        image = await tx.images.get(image_id)
        if image is None or not image.visible_to(user.id):
            raise NotFound("no such image")
        if image.owner_id != user.id:
            raise Forbidden("only the owner can delete this image")
        await tx.images.mark_deleted(image_id, utcnow())
        jobs = []
        if services.settings.trash_retention_days == 0:
            job = await services.queue.enqueue(tx, JobKind.RECLAIM_IMAGE, image_id)
            jobs.append(job)
    await services.queue.dispatch(jobs)  # otherwise the lifecycle pass empties the trash
    await purge.purge_or_retry_later(services, image_id, image_media_paths(image))


def trash_cutoff(services: Services) -> datetime:
    """Images deleted before this moment are past the trash retention."""
    return utcnow() - timedelta(days=services.settings.trash_retention_days)


async def reclaim_image(services: Services, image_id: str) -> None:
    """Remove a deleted image's blobs, then its row, once its trash retention has passed.
    Safe to run again; does nothing to an image restored from the trash."""
    async with services.metadata.read() as tx:
        image = await tx.images.get(image_id)
    if image is None or image.deleted_at is None or image.deleted_at > trash_cutoff(services):
        return
    await remove_for_good(services, image)


async def remove_for_good(services: Services, image: Image) -> None:
    """Delete every blob the image may have (in any storage class), then its row."""
    keys = {image.original_key}
    keys.update(v.key for v in image.all_variants())
    keys.update(
        variant_key(image.id, image.created_at, name, extension)
        for name in VARIANT_NAMES
        for extension in FORMAT_EXTENSIONS.values()
    )
    for key in sorted(keys):
        await services.store.delete(key)
    async with services.metadata.write() as tx:
        await tx.images.remove(image.id)


async def remove_with_account(services: Services, image_id: str) -> None:
    """An image of a closed account: its media purged from the edges and removed now, past
    any trash; the account's row goes with its last image."""
    async with services.metadata.read() as tx:
        image = await tx.images.get(image_id)
    if image is None or image.deleted_at is None:
        return
    await purge.purge_or_retry_later(services, image_id, image_media_paths(image))
    await remove_for_good(services, image)
    async with services.metadata.write() as tx:
        await tx.users.remove_closed(image.owner_id)


async def _run_job(services: Services, job: Job) -> None:
    if job.payload.get("with_account"):
        await remove_with_account(services, job.image_id)
    else:
        await reclaim_image(services, job.image_id)


JOB = JobHandler(JobKind.RECLAIM_IMAGE, _run_job)  # given up: the lifecycle pass tries again
