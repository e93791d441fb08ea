"""Archived originals: a download starts a restore; once restored the original can be
downloaded for ``restore_days``; the lifecycle pass drops the copy when they are up."""

from __future__ import annotations

from datetime import datetime, timedelta

from shutterbox.clock import utcnow
from shutterbox.domain.images import Image
from shutterbox.domain.jobs import JobKind, Postpone
from shutterbox.ports import Job
from shutterbox.services.context import Services
from shutterbox.services.job_handler import JobHandler


class CheckLater(Exception):
    """The job's work is under way elsewhere (an object store restoring): run it again later."""

    def __init__(self, seconds: float, why: str) -> None:
        super().__init__(why)
        self.seconds = seconds


def retry_after_seconds(services: Services) -> int:
    """What a client waiting for a restore is told to wait before asking again."""
    return max(1, round(services.settings.restore_check_seconds))


async def request_original(services: Services, image: Image) -> None:
    """Start restoring an archived original, unless a restore was asked for recently."""
    now = utcnow()
    recently = now - timedelta(seconds=services.settings.restore_check_seconds)
    async with services.metadata.write() as tx:
        current = await tx.images.get(image.id)
        if current is None or current.original_readable(now):
            return
        requested = current.original_restore_requested_at
        if requested is not None and requested > recently:
            return
        await tx.images.set_original_restore(
            image.id, requested_at=now, restored_until=current.original_restored_until
        )
        job_id = await services.queue.enqueue(tx, JobKind.RESTORE_ORIGINAL, image.id)
    await services.queue.dispatch([job_id])


async def restore_original(services: Services, image_id: str) -> None:
    """The job: ask the store for a readable copy; record until when it lasts once it exists."""
    async with services.metadata.read() as tx:
        image = await tx.images.get(image_id)
    if image is None or image.deleted_at is not None:
        return
    if not image.original_storage_class.is_archive or services.tiers is None:
        await _record(services, image_id, None)
        return
    days = services.settings.restore_days
    await services.tiers.restore(image.original_key, days)
    status = await services.tiers.restore_status(image.original_key)
    if not status.readable:
        raise CheckLater(services.settings.restore_check_seconds, "the restore is under way")
    await _record(services, image_id, status.expires_at or utcnow() + timedelta(days=days))


async def _record(services: Services, image_id: str, restored_until: datetime | None) -> None:
    async with services.metadata.write() as tx:
        await tx.images.set_original_restore(
            image_id, requested_at=None, restored_until=restored_until
        )


async def _run_job(services: Services, job: Job) -> Postpone | None:
    """Still restoring is not a failure: the same job again later, its attempts not counted."""
    try:
        await restore_original(services, job.image_id)
    except CheckLater as later:
        return Postpone(later.seconds)
    return None


JOB = JobHandler(JobKind.RESTORE_ORIGINAL, _run_job)
