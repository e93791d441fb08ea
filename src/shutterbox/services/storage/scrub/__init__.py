"""The scrub: every disagreement between the metadata and the bytes, found, and repaired where
that is possible.

What it checks (``checks``, ``orphans``, ``temporary``):

* every row against its blobs: each image's original and each variant of a ready image is
  there with the recorded size and SHA-256;
* every stored blob against the rows: unreferenced blobs older than the grace period are
  orphans;
* temporary files older than the grace period, left by a process that died mid-write.

``repairs`` holds what ``--repair`` does; ``report`` the findings and the exit status. The
queries are in ``shutterbox.adapters.db.repositories.scrub``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shutterbox.services.context import Services
from shutterbox.services.storage.replica import first_and_replica
from shutterbox.services.storage.scrub import copies, repairs
from shutterbox.services.storage.scrub.checks import BLOB_CONCURRENCY, check_images
from shutterbox.services.storage.scrub.orphans import check_listed_blobs
from shutterbox.services.storage.scrub.report import (
    CLEAN,
    REMOVABLE,
    Problem,
    ProblemKind,
    ProgressCallback,
    ScrubReport,
)
from shutterbox.services.storage.scrub.temporary import check_temporary_files

__all__ = ["CLEAN", "Problem", "ProblemKind", "ProgressCallback", "ScrubReport", "scrub"]


async def scrub(
    services: Services,
    *,
    repair: bool,
    grace: timedelta,
    progress: ProgressCallback | None = None,
) -> ScrubReport:
    """Check every row against its blobs and every blob against the rows; with ``repair``,
    fix what can be fixed. Nothing younger than ``grace`` is ever reported or removed as
    unreferenced."""
    report = ScrubReport(repair=repair, grace_seconds=grace.total_seconds())
    notify: ProgressCallback = progress or (lambda phase, done, total: None)
    limit = asyncio.Semaphore(BLOB_CONCURRENCY)
    rows = services.metadata.scrub_queries()
    upload_grace = timedelta(seconds=services.settings.direct_upload_grace_seconds)

    first, replica = first_and_replica(services.store)
    to_remake = await check_images(rows, first, report, limit, notify, replica)
    await check_listed_blobs(rows, first, report, grace, upload_grace, notify)
    if replica is not None:
        await check_listed_blobs(rows, replica, report, grace, upload_grace, notify, True)
    await check_temporary_files(services.store, services.staging_dir, report, grace)

    if repair:
        to_copy = copies.to_restore(report)
        total = len(to_copy) + len(to_remake) + sum(p.kind in REMOVABLE for p in report.problems)
        done = 0

        def advance(count: int = 1) -> None:
            nonlocal done
            done += count
            notify("repairs", done, total)

        notify("repairs", 0, total)
        await copies.restore_copies(services, rows, report, advance)
        await repairs.remake_variants(services, rows, report, to_remake, limit, advance)
        await repairs.remove_orphans(services, rows, report, grace, upload_grace, advance)
        await repairs.remove_temporary_files(report, grace, advance)
    return report
