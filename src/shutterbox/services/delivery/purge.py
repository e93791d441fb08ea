"""Telling the edge caches to forget an image's URLs (on delete, or when its visibility
changes), before the API answers.

Each PURGE has a deadline (``SHUTTERBOX_EDGE_TIMEOUT_SECONDS``) and is retried after a
jittered backoff when it could not be sent (a purge may safely run twice); the edges share
one circuit breaker, and while it is open nothing is sent: the request's purges are left to
a job at once, and that job waits for the breaker instead of spending its attempts."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx2

from shutterbox.domain.jobs import JobKind
from shutterbox.domain.resilience import DependencyDown
from shutterbox.ports import Job
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.job_handler import JobHandler
from shutterbox.services.resilience import retried

log = logging.getLogger(__name__)


class PurgeFailed(Exception):
    """Some edge did not confirm; the job that retries this says which."""


class _EdgesUnreachable(Exception):
    """Some PURGE could not be sent at all: a failure for the edges' breaker."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__(f"{len(failures)} purges not sent")
        self.failures = failures


async def purge_paths(services: Services, paths: list[str]) -> list[str]:
    """PURGE every path on every configured edge, all at once (so a slow edge costs one
    timeout, not one per path); returns "edge path" for each that was not confirmed.
    Raises ``DependencyDown`` while the edges' breaker is open, without sending anything."""
    edges = services.settings.purge_targets
    if not edges or not paths:
        return []
    breaker = services.breakers.get("edge")
    call = (
        breaker.guard(lambda error: isinstance(error, _EdgesUnreachable))
        if breaker is not None
        else contextlib.nullcontext()
    )
    try:
        with call:
            failures, unreachable = await _purge_all(services, edges, paths)
            if unreachable:
                raise _EdgesUnreachable(failures)
    except _EdgesUnreachable as error:
        failures = error.failures
    if failures:
        metrics.PURGE_FAILURES.inc(len(failures))
    return failures


async def _purge_all(
    services: Services, edges: list[str], paths: list[str]
) -> tuple[list[str], bool]:
    """The purges not confirmed, and whether any could not be sent at all."""
    settings = services.settings
    unreachable = False
    async with httpx2.AsyncClient(timeout=settings.edge_timeout_seconds) as client:

        async def one(edge: str, path: str) -> str | None:
            nonlocal unreachable
            try:
                response = await retried(
                    lambda: client.request("PURGE", f"{edge}{path}"),
                    retries=settings.edge_retries,
                    retry_on=(httpx2.TransportError,),
                )
            except httpx2.HTTPError as error:
                log.warning("PURGE %s%s failed: %s", edge, path, error)
                unreachable = unreachable or isinstance(error, httpx2.TransportError)
                return f"{edge} {path}"
            if response.status_code < 300 or response.status_code == 404:
                return None
            return f"{edge} {path}"

        results = await asyncio.gather(*(one(e, p) for e in edges for p in paths))
    return [r for r in results if r is not None], unreachable


async def purge_or_retry_later(services: Services, image_id: str, paths: list[str]) -> None:
    """Purge ``paths`` now; a job keeps trying what an edge did not confirm (everything,
    while the edges' breaker is open)."""
    try:
        unconfirmed = bool(await purge_paths(services, paths))
    except DependencyDown:
        unconfirmed = True
    if unconfirmed:
        async with services.metadata.write() as tx:
            job = await services.queue.enqueue(tx, JobKind.PURGE_MEDIA, image_id, {"paths": paths})
        await services.queue.dispatch([job])


async def retry_purge(services: Services, paths: list[str]) -> None:
    """The job behind a purge that failed at delete time; raising makes the worker retry
    (``DependencyDown``: later, without counting an attempt)."""
    failures = await purge_paths(services, paths)
    if failures:
        raise PurgeFailed(f"{len(failures)} purges not confirmed, e.g. {failures[0]}")


async def _run_job(services: Services, job: Job) -> None:
    await retry_purge(services, list(job.payload.get("paths", [])))


JOB = JobHandler(JobKind.PURGE_MEDIA, _run_job)
