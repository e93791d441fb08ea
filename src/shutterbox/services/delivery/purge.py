"""Telling the edge caches to forget an image's URLs (on delete, or when its visibility
changes), before the API answers."""

from __future__ import annotations

import asyncio
import logging

import httpx2

from shutterbox.domain.jobs import JobKind
from shutterbox.ports import Job
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.job_handler import JobHandler

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0


class PurgeFailed(Exception):
    """Some edge did not confirm; the job that retries this says which."""


async def purge_paths(services: Services, paths: list[str]) -> list[str]:
    """PURGE every path on every configured edge, all at once (so a slow edge costs one
    timeout, not one per path); returns "edge path" for each that was not confirmed."""
    edges = services.settings.purge_targets
    if not edges or not paths:
        return []
    async with httpx2.AsyncClient(timeout=TIMEOUT_SECONDS) as client:

        async def one(edge: str, path: str) -> str | None:
            try:
                response = await client.request("PURGE", f"{edge}{path}")
            except httpx2.HTTPError as error:
                log.warning("PURGE %s%s failed: %s", edge, path, error)
                return f"{edge} {path}"
            if response.status_code < 300 or response.status_code == 404:
                return None
            return f"{edge} {path}"

        results = await asyncio.gather(*(one(e, p) for e in edges for p in paths))
    failures = [r for r in results if r is not None]
    if failures:
        metrics.PURGE_FAILURES.inc(len(failures))
    return failures


async def purge_or_retry_later(services: Services, image_id: str, paths: list[str]) -> None:
    """Purge ``paths`` now; a job keeps trying what an edge did not confirm."""
    if await purge_paths(services, paths):
        async with services.metadata.write() as tx:
            job = await services.queue.enqueue(tx, JobKind.PURGE_MEDIA, image_id, {"paths": paths})
        await services.queue.dispatch([job])


async def retry_purge(services: Services, paths: list[str]) -> None:
    """The job behind a purge that failed at delete time; raising makes the worker retry."""
    failures = await purge_paths(services, paths)
    if failures:
        raise PurgeFailed(f"{len(failures)} purges not confirmed, e.g. {failures[0]}")


async def _run_job(services: Services, job: Job) -> None:
    await retry_purge(services, list(job.payload.get("paths", [])))


JOB = JobHandler(JobKind.PURGE_MEDIA, _run_job)
