"""Lifecycle rules, applied in one pass: originals move to colder storage classes as they
age, restored copies are dropped when their days are up, the trash is emptied of images
past the retention, failed uploads and abandoned direct uploads are removed, and the
search's word indexes are merged when they are spread over many pieces.

Every step is idempotent and works in batches, so a pass can be cut short and run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shutterbox.clock import utcnow
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import Job
from shutterbox.services.context import Services
from shutterbox.services.images import deletion, direct_uploads, search_upkeep
from shutterbox.services.job_handler import JobHandler

log = logging.getLogger(__name__)

PASS_SUBJECT = "-"  # the jobs table keys jobs by image; a pass is about all of them
BATCH = 200
CONCURRENCY = 8
# S3 runs bucket lifecycle rules once a day, asynchronously: give it this long past the
# rule's age before moving an object ourselves.
STORE_RULE_LAG = timedelta(days=2)


@dataclass
class LifecycleReport:
    transitioned: Counter[str] = field(default_factory=Counter)  # by target class
    observed: Counter[str] = field(default_factory=Counter)  # moved by the store's own rules
    restores_ended: int = 0
    trash_purged: int = 0
    failed_purged: int = 0
    direct_uploads_cleared: int = 0
    search_index_merge_steps: int = 0
    problems: list[str] = field(default_factory=list)


async def run_lifecycle(services: Services) -> LifecycleReport:
    report = LifecycleReport()
    now = utcnow()
    if services.tiers is not None:
        store_rules = await _store_transitions(services)
        for storage_class, days in reversed(services.settings.transitions):  # coldest first
            await _transition_originals(services, storage_class, days, store_rules, now, report)
        await _end_restores(services, now, report)
    await _purge_trash(services, report)
    await _purge_failed(services, now, report)
    report.direct_uploads_cleared = await direct_uploads.clean_up_abandoned(services)
    report.search_index_merge_steps = await search_upkeep.merge_spread_indexes(services.metadata)
    return report


async def schedule_pass(services: Services) -> bool:
    """Make sure the next lifecycle pass is queued (one for all processes); True if this
    call queued it."""
    async with services.metadata.write() as tx:
        if await services.queue.scheduled(tx, JobKind.LIFECYCLE_PASS, PASS_SUBJECT):
            return False
        job_id = await services.queue.enqueue(
            tx,
            JobKind.LIFECYCLE_PASS,
            PASS_SUBJECT,
            delay_seconds=services.settings.lifecycle_interval_seconds,
            lane=Lane.BULK,
        )
    await services.queue.dispatch([job_id], Lane.BULK)
    return True


def _colder_or_equal(storage_class: StorageClass) -> list[StorageClass]:
    order = list(StorageClass)
    return order[order.index(storage_class) :]


async def _store_transitions(services: Services) -> dict[StorageClass, float]:
    """Transitions of originals the store applies by itself (S3 bucket lifecycle rules
    written by `shutterbox lifecycle apply`), as class → days."""
    from shutterbox.services.storage import bucket_rules

    try:
        return await bucket_rules.applied_transitions(services)
    except Exception as exc:  # the pass still works without knowing them
        log.warning("could not read the bucket's lifecycle rules: %s", exc)
        return {}


async def _transition_originals(
    services: Services,
    target: StorageClass,
    days: float,
    store_rules: dict[StorageClass, float],
    now: datetime,
    report: LifecycleReport,
) -> None:
    assert services.tiers is not None
    tiers = services.tiers
    warmer = [c for c in StorageClass if c not in _colder_or_equal(target)]
    created_before = now - timedelta(days=days)
    store_does_it = target in store_rules and store_rules[target] <= days + 1
    limit = asyncio.Semaphore(CONCURRENCY)

    async def move(image_id: str, created_at: datetime, key: str) -> None:
        async with limit:
            try:
                actual = await tiers.storage_class(key)
                if actual is None:
                    report.problems.append(f"{image_id}: original {key} is missing")
                    return
                if actual in _colder_or_equal(target):
                    report.observed[actual.value] += 1  # the store moved it: learn where
                    await _record_class(services, image_id, actual)
                    return
                if store_does_it and created_at > now - timedelta(days=days) - STORE_RULE_LAG:
                    return  # the bucket's own rule will move it shortly
                await tiers.transition(key, target)
                await _record_class(services, image_id, target)
                report.transitioned[target.value] += 1
            except Exception as exc:
                report.problems.append(f"{image_id}: could not move {key} to {target}: {exc}")

    after: tuple[datetime, str] | None = None
    while True:
        async with services.metadata.read() as tx:
            rows = await tx.images.originals_due(
                created_before=created_before, classes=warmer, after=after, limit=BATCH
            )
        if not rows:
            return
        await asyncio.gather(*(move(r.id, r.created_at, r.original_key) for r in rows))
        after = (rows[-1].created_at, rows[-1].id)


async def _record_class(services: Services, image_id: str, storage_class: StorageClass) -> None:
    async with services.metadata.write() as tx:
        await tx.images.set_original_class(image_id, storage_class)


async def _end_restores(services: Services, now: datetime, report: LifecycleReport) -> None:
    assert services.tiers is not None
    while True:
        async with services.metadata.read() as tx:
            rows = await tx.images.restores_ended(now, BATCH)
        if not rows:
            return
        for row in rows:
            await services.tiers.end_restore(row.original_key)
            async with services.metadata.write() as tx:
                await tx.images.set_original_restore(row.id, requested_at=None, restored_until=None)
            report.restores_ended += 1


async def _purge_trash(services: Services, report: LifecycleReport) -> None:
    while True:
        async with services.metadata.read() as tx:
            ids = await tx.images.trash_expired(deletion.trash_cutoff(services), BATCH)
        if not ids:
            return
        for image_id in ids:
            await deletion.reclaim_image(services, image_id)
            report.trash_purged += 1


async def _purge_failed(services: Services, now: datetime, report: LifecycleReport) -> None:
    cutoff = now - timedelta(days=services.settings.failed_upload_retention_days)
    while True:
        async with services.metadata.read() as tx:
            ids = await tx.images.failed_expired(cutoff, BATCH)
        if not ids:
            return
        for image_id in ids:
            async with services.metadata.read() as tx:
                image = await tx.images.get(image_id)
            if image is not None:
                await deletion.remove_for_good(services, image)
                report.failed_purged += 1


async def _run_job(services: Services, job: Job) -> None:
    report = await run_lifecycle(services)
    for problem in report.problems:
        log.warning("lifecycle: %s", problem)


JOB = JobHandler(JobKind.LIFECYCLE_PASS, _run_job)
