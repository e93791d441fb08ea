"""Reprocessing as bulk work through the queue: the images chosen are enqueued in the bulk
lane (behind new uploads and retries), as one batch, and any worker on any machine makes
their variants again. A batch left unfinished (the command stopped, the machine restarted)
is resumed by asking for the same selection again: images processed since it began are not
enqueued a second time, and jobs already waiting are not doubled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shutterbox.domain.errors import NotFound
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.ports.jobs import Batch
from shutterbox.services.context import Services
from shutterbox.services.images import lookup

CHUNK = 500  # images enqueued per transaction


@dataclass(frozen=True)
class Started:
    batch: Batch
    added: int  # jobs this call added
    images: list[str]  # the images this call found to do: enqueued now, or waiting already
    total: int  # jobs of the batch, over every call


@dataclass(frozen=True)
class Progress:
    total: int
    remaining: int  # waiting or running
    failed: int  # jobs given up (images whose processing failed are done, and failed)

    @property
    def settled(self) -> int:
        return self.total - self.remaining


async def start(
    services: Services, ids: Sequence[str] = (), *, everything: bool = False, failed: bool = False
) -> Started:
    """Enqueue the reprocessing of ``ids``, of every image (``everything``) or of every
    failed one (``failed``), resuming the unfinished batch of the same selection."""
    selection = "all" if everything else "failed" if failed else "ids"
    batch = await services.queue.open_batch(
        JobKind.PROCESS_IMAGE, selection, resume=selection != "ids"
    )
    chosen = await lookup.live_ids(
        services,
        None if everything or failed else list(ids),
        failed_only=failed,
        processed_before=batch.created_at if batch.resumed else None,
    )
    if selection == "ids":
        missing = set(ids) - set(chosen)
        if missing:
            await services.queue.finish_batch(batch.id)
            raise NotFound(f"no such image: {', '.join(sorted(missing))}")
    added, images = 0, []
    total = batch.total
    for start_at in range(0, len(chosen), CHUNK):
        chunk = chosen[start_at : start_at + CHUNK]
        async with services.metadata.write() as tx:
            job_ids = await services.queue.enqueue_batch(
                tx, JobKind.PROCESS_IMAGE, chunk, {"force": True}, batch.id
            )
            total = await services.queue.count_in_batch(tx, batch.id, len(job_ids))
        await services.queue.dispatch(job_ids, Lane.BULK)
        added += len(job_ids)
        images += chunk if len(job_ids) == len(chunk) else await _queued(services, chunk)
    return Started(batch, added, images, total)


async def _queued(services: Services, chunk: list[str]) -> list[str]:
    """The images of ``chunk`` that now have a job waiting or running."""
    async with services.metadata.read() as tx:
        return [i for i in chunk if await services.queue.scheduled(tx, JobKind.PROCESS_IMAGE, i)]


async def progress(services: Services, batch: Batch, total: int) -> Progress:
    remaining, failed = await services.queue.batch_progress(batch.id)
    return Progress(total, remaining, failed)
