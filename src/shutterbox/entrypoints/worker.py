"""Workers: claim a job, run its handler (``services.jobs``), record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from shutterbox.domain.jobs import Fail, Outcome, Retry
from shutterbox.domain.resilience import DependencyDown
from shutterbox.ports import Job
from shutterbox.services import jobs, metrics
from shutterbox.services.context import Services
from shutterbox.services.images import direct_uploads
from shutterbox.services.storage import lifecycle

log = logging.getLogger(__name__)


class WorkerPool:
    """``concurrency`` workers in this process, each running one job at a time."""

    def __init__(self, services: Services, concurrency: int) -> None:
        self.services = services
        self.concurrency = concurrency
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[object]] = set()  # workers in the middle of a job
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
                except DependencyDown as down:
                    log.warning("%s waits: %s", chore.__name__, down.message)
                except Exception:
                    log.exception("%s failed; trying again later", chore.__name__)

    async def _clean_up_uploads(self) -> int:
        return await direct_uploads.clean_up_abandoned(self.services)

    async def _schedule(self) -> bool:
        return await lifecycle.schedule_pass(self.services)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop claiming; idle workers stop at once, a worker in the middle of a job finishes
        it and records how it ended (cut short after ``grace_seconds``: its lease then runs
        out and another worker takes the job). A job cut short between its result and its
        record would otherwise stay leased, and look taken, until the lease ran out."""
        self._stopping.set()
        busy = [task for task in self._tasks if task in self._busy]
        for task in self._tasks:
            if task not in busy:
                task.cancel()
        if busy:
            _, late = await asyncio.wait(busy, timeout=grace_seconds)
            for task in late:
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
            except DependencyDown as down:  # the database's breaker is open: no job is lost
                log.warning("not claiming jobs: %s", down.message)
                await asyncio.sleep(max(settings.job_poll_seconds, down.retry_after))
                continue
            except Exception:
                log.exception("could not claim a job; trying again shortly")
                await asyncio.sleep(settings.job_poll_seconds)
                continue
            if job is None:
                await queue.wait_for_work(settings.job_poll_seconds)
                continue
            current = asyncio.current_task()
            assert current is not None
            self._busy.add(current)
            try:
                await self.run_job(job, worker_id)
            except Exception:  # the outcome could not be recorded (the database went away)
                log.exception("could not record how job %s ended; it runs again", job.id)
                await asyncio.sleep(settings.job_poll_seconds)  # then this worker takes it back
            finally:
                self._busy.discard(current)

    async def run_job(self, job: Job, worker_id: str) -> None:
        heartbeat = asyncio.create_task(self._keep_leased(job, worker_id))
        try:
            outcome = await jobs.run(self.services, job)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        _log(job, outcome)
        await self.services.queue.record(job, worker_id, outcome)

    async def _keep_leased(self, job: Job, worker_id: str) -> None:
        lease = self.services.settings.job_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await self.services.queue.extend_lease(job, worker_id, lease)
            except Exception:
                log.exception("could not extend the lease of job %s", job.id)


async def stop_when_orphaned(parent_pid: int, stop: asyncio.Event, every: float = 1.0) -> None:
    """Set ``stop`` once ``parent_pid`` is no longer this process's parent (it died, even by
    SIGKILL, and left this worker behind)."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(every)
    log.warning("the serving process %d is gone; stopping", parent_pid)
    stop.set()


def _log(job: Job, outcome: Outcome) -> None:
    if isinstance(outcome, Fail):
        log.error("job %s for %s failed for good: %s", job.kind, job.image_id, outcome.error)
    elif isinstance(outcome, Retry):
        log.warning(
            "job %s for %s failed (%s); retry in %.1fs",
            job.kind,
            job.image_id,
            outcome.error,
            outcome.delay_seconds,
        )
        metrics.JOB_RETRIES.inc()
