"""Reprocessing as bulk work through the queue: the images chosen are enqueued in the bulk
lane (behind new uploads and retries), as one batch, and any worker on any machine makes
their variants again. A batch left unfinished (the command stopped, the machine restarted)
is resumed by asking for the same selection again: images processed since it began are not
enqueued a second time, and jobs already waiting are not doubled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from shutterbox.domain.errors import NotFound
from shutterbox.domain.images import Status
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.ports.jobs import Batch
from shutterbox.ports.metadata import ImageState
from shutterbox.services.context import Services
from shutterbox.services.images import lookup

CHUNK = 500  # images enqueued per transaction


@dataclass(frozen=True)
class Started:
    batch: Batch
    added: int  # jobs this call added
    total: int  # jobs of the batch, over every call
    ids: list[str]  # the images asked for by id ([] for every image, or every failed one)


@dataclass(frozen=True)
class Progress:
    total: int
    remaining: int  # waiting or running
    failed: int  # jobs given up (images whose processing failed are done, and failed)

    @property
    def settled(self) -> int:
        return self.total - self.remaining


@dataclass(frozen=True)
class Outcome:
    ready: int
    failed: int
    failures: list[ImageState]  # the latest of the failed ones, with their reasons


async def start(
    services: Services, ids: Sequence[str] = (), *, everything: bool = False, failed: bool = False
) -> Started:
    """Enqueue the reprocessing of ``ids``, of every image (``everything``) or of every
    failed one (``failed``), resuming the unfinished batch of the same selection. Every
    image is walked a page at a time, never held in memory at once."""
    selection = "all" if everything else "failed" if failed else "ids"
    batch = await services.queue.open_batch(
        JobKind.PROCESS_IMAGE, selection, resume=selection != "ids"
    )
    processed_before = batch.created_at if batch.resumed else None
    pages: AsyncIterator[list[str]]
    if selection == "ids":
        chosen = await lookup.live_ids(services, list(ids), processed_before=processed_before)
        missing = set(ids) - set(chosen)
        if missing:
            await services.queue.finish_batch(batch.id)
            raise NotFound(f"no such image: {', '.join(sorted(missing))}")
        pages = _listed(chosen)
    else:
        pages = lookup.walk_live_ids(
            services, failed_only=failed, processed_before=processed_before
        )
    added, total = 0, batch.total
    async for page in pages:
        for start_at in range(0, len(page), CHUNK):
            chunk = page[start_at : start_at + CHUNK]
            async with services.metadata.write() as tx:
                job_ids = await services.queue.enqueue_batch(
                    tx, JobKind.PROCESS_IMAGE, chunk, {"force": True}, batch.id
                )
                total = await services.queue.count_in_batch(tx, batch.id, len(job_ids))
            await services.queue.dispatch(job_ids, Lane.BULK)
            added += len(job_ids)
    return Started(batch, added, total, list(ids) if selection == "ids" else [])


async def _listed(ids: list[str]) -> AsyncIterator[list[str]]:
    yield ids


async def outcome(services: Services, started: Started, shown: int) -> Outcome:
    """How the batch's images ended: those asked for by id, or else every image processed
    since the batch began (``shown`` of the failures with their reasons)."""
    if started.ids:
        states = await lookup.states(services, started.ids)
        failures = [s for s in states if s.status == Status.FAILED.value]
        ready = sum(1 for s in states if s.status == Status.READY.value)
        return Outcome(ready, len(failures), failures[:shown])
    since = started.batch.created_at
    failed, failures = await lookup.failed_since(services, since, shown)
    return Outcome(await lookup.ready_since(services, since), failed, failures)


async def progress(services: Services, batch: Batch, total: int) -> Progress:
    remaining, failed = await services.queue.batch_progress(batch.id)
    return Progress(total, remaining, failed)
