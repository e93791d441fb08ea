"""Workers: take a job, run its use case, then complete, retry or fail it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from shutterbox.ports import Job
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.delivery import purge
from shutterbox.services.images import deletion, direct_uploads, processing, uploads
from shutterbox.services.storage import lifecycle, restores

log = logging.getLogger(__name__)

Handler = Callable[[Services, Job], Awaitable[None]]


async def _process(services: Services, job: Job) -> None:
    await processing.process_image(services, job.image_id)


async def _reclaim(services: Services, job: Job) -> None:
    await deletion.reclaim_image(services, job.image_id)


async def _purge(services: Services, job: Job) -> None:
    await purge.retry_purge(services, list(job.payload.get("paths", [])))


async def _restore(services: Services, job: Job) -> None:
    await restores.restore_original(services, job.image_id)


async def _lifecycle(services: Services, job: Job) -> None:
    report = await lifecycle.run_lifecycle(services)
    for problem in report.problems:
        log.warning("lifecycle: %s", problem)


HANDLERS: dict[str, Handler] = {
    uploads.PROCESS_IMAGE: _process,
    deletion.RECLAIM_IMAGE: _reclaim,
    purge.PURGE_MEDIA: _purge,
    restores.RESTORE_ORIGINAL: _restore,
    lifecycle.LIFECYCLE_PASS: _lifecycle,
}


class WorkerPool:
    """``concurrency`` workers in this process, each running one job at a time."""

    def __init__(self, services: Services, concurrency: int) -> None:
        self.services = services
        self.concurrency = concurrency
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.worker_ids = [f"{prefix}:{n}" for n in range(concurrency)]

    def start(self) -> None:
        for worker_id in self.worker_ids:
            self._tasks.append(asyncio.create_task(self._run(worker_id), name=worker_id))
        self._tasks.append(asyncio.create_task(self._maintain(), name="maintenance"))

    async def _maintain(self) -> None:
        """Now and then: redeliver jobs whose delivery was lost (a queue outside the database
        can lose a message; the jobs table cannot), clear abandoned direct uploads, and make
        sure the next lifecycle pass is scheduled."""
        while not self._stopping.is_set():
            await asyncio.sleep(self.services.settings.queue_sweep_seconds)
            for chore in (self.services.queue.sweep, self._clean_up_uploads, self._schedule):
                try:
                    await chore()
                except Exception:
                    log.exception("%s failed; trying again later", chore.__name__)

    async def _clean_up_uploads(self) -> int:
        return await direct_uploads.clean_up_abandoned(self.services)

    async def _schedule(self) -> bool:
        return await lifecycle.schedule_pass(self.services)

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def run_forever(self) -> None:
        self.start()
        await asyncio.gather(*self._tasks)

    async def _run(self, worker_id: str) -> None:
        settings = self.services.settings
        queue = self.services.queue
        while not self._stopping.is_set():
            try:
                job = await queue.claim(worker_id, settings.job_lease_seconds)
            except Exception:
                log.exception("could not claim a job; trying again shortly")
                await asyncio.sleep(settings.job_poll_seconds)
                continue
            if job is None:
                await queue.wait_for_work(settings.job_poll_seconds)
                continue
            await self.run_job(job, worker_id)

    async def run_job(self, job: Job, worker_id: str) -> None:
        settings = self.services.settings
        queue = self.services.queue
        handler = HANDLERS.get(job.kind)
        if handler is None:
            await queue.fail(job, worker_id, f"no handler for job kind {job.kind!r}")
            return
        heartbeat = asyncio.create_task(self._keep_leased(job, worker_id))
        try:
            await handler(self.services, job)
        except asyncio.CancelledError:
            raise  # the lease runs out and another worker takes the job
        except restores.CheckLater as later:  # not a failure: the same job, again later
            async with self.services.db.writer.begin() as conn:
                again = await queue.enqueue(
                    conn, job.kind, job.image_id, job.payload, delay_seconds=later.seconds
                )
            await queue.complete(job, worker_id)
            await queue.dispatch([again])
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts >= settings.job_max_attempts:
                log.error("job %s for %s failed for good: %s", job.kind, job.image_id, error)
                if job.kind == uploads.PROCESS_IMAGE:
                    await processing.mark_failed_after_retries(self.services, job.image_id, error)
                    metrics.PROCESSING_FAILURES.labels(reason="gave_up").inc()
                await queue.fail(job, worker_id, error)
            else:
                delay = settings.job_retry_base_seconds * 2 ** (job.attempts - 1)
                log.warning(
                    "job %s for %s failed (%s); retry in %.1fs",
                    job.kind,
                    job.image_id,
                    error,
                    delay,
                )
                metrics.JOB_RETRIES.inc()
                await queue.retry(job, worker_id, delay, error)
        else:
            await queue.complete(job, worker_id)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_leased(self, job: Job, worker_id: str) -> None:
        lease = self.services.settings.job_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await self.services.queue.extend_lease(job, worker_id, lease)
            except Exception:
                log.exception("could not extend the lease of job %s", job.id)
