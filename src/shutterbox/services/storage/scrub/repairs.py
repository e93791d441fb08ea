"""What ``scrub --repair`` does: remake missing or damaged variants from the original (through
the processing service, then check them again), and delete orphans and stale temporary
files, each checked once more just before it goes. An original is never rewritten: a
missing or damaged original is reported, to be restored from a backup."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import anyio

from shutterbox.ports.scrub import ScrubQueries
from shutterbox.services.context import Services
from shutterbox.services.images import processing
from shutterbox.services.storage.replica import first_and_replica
from shutterbox.services.storage.scrub.checks import PAGE_SIZE, check_image
from shutterbox.services.storage.scrub.grace import aware, cutoff
from shutterbox.services.storage.scrub.orphans import unreferenced
from shutterbox.services.storage.scrub.report import Problem, ProblemKind, ScrubReport

log = logging.getLogger(__name__)

Advance = Callable[[int], None]
"""Called with how many more repairs are done."""


async def remake_variants(
    services: Services,
    rows: ScrubQueries,
    report: ScrubReport,
    image_ids: list[str],
    limit: asyncio.Semaphore,
    advance: Advance,
) -> None:
    """Make the variants again from the original, then check them again: a problem counts as
    repaired only if the fresh check finds nothing wrong."""
    remaking = asyncio.Semaphore(max(1, services.settings.workers))

    async def one(image_id: str) -> None:
        fixes = [
            p
            for p in report.problems
            if p.image_id == image_id
            and p.repairable
            and p.kind in (ProblemKind.MISSING_VARIANT, ProblemKind.VARIANT_MISMATCH)
        ]
        async with remaking:
            try:
                await processing.process_image(services, image_id, force=True)
            except Exception as error:  # reported, and the repair goes on
                log.warning("remaking the variants of %s failed: %s", image_id, error)
                for problem in fixes:
                    problem.detail += f"; remaking the variants failed: {error}"
                advance(1)
                return
        record = await rows.image(image_id)
        if record is None:  # removed meanwhile: nothing is left to be wrong
            for problem in fixes:
                problem.repaired = True
                problem.detail += "; the image was removed meanwhile"
            advance(1)
            return
        first, replica = first_and_replica(services.store)
        check = await check_image(first, record, limit, replica)
        for problem in fixes:
            if check.problems:
                problem.detail += "; still wrong after the variants were made again"
            else:
                problem.repaired = True
                problem.detail += "; the variants were made again"
        advance(1)

    await asyncio.gather(*(one(i) for i in image_ids))


async def remove_orphans(
    services: Services,
    rows: ScrubQueries,
    report: ScrubReport,
    grace: timedelta,
    upload_grace: timedelta,
    advance: Advance,
) -> None:
    """Delete orphans, each checked again first: still unreferenced, still old."""
    first, replica = first_and_replica(services.store)
    orphans = [p for p in report.problems if p.kind == ProblemKind.ORPHAN]
    settled: list[Problem] = []  # no longer orphans: dropped from the report
    for start in range(0, len(orphans), PAGE_SIZE):
        batch = orphans[start : start + PAGE_SIZE]
        still = await unreferenced(rows, [p.key for p in batch], upload_grace)
        for problem in batch:
            advance(1)
            if problem.key not in still:
                settled.append(problem)
                continue
            store = replica if problem.in_replica and replica is not None else first
            try:
                info = await store.info(problem.key)
                if info is not None and aware(info.last_modified) >= cutoff(grace):
                    settled.append(problem)  # written again since it was listed
                    report.recent_unreferenced += 1
                    continue
                if info is not None:
                    await store.delete(problem.key)
            except Exception as error:
                problem.detail += f"; removing it failed: {type(error).__name__}: {error}"
                continue
            problem.repaired = True
            problem.detail += "; removed"
    report.drop(settled)


async def remove_temporary_files(report: ScrubReport, grace: timedelta, advance: Advance) -> None:
    stale = [p for p in report.problems if p.kind == ProblemKind.STALE_TEMPORARY]
    older = cutoff(grace).timestamp()

    def remove(problem: Problem) -> bool:
        """False if the file was written again since it was found."""
        path = Path(problem.key)
        try:
            if path.stat().st_mtime >= older:
                return False
            os.unlink(path)
        except FileNotFoundError:
            pass  # gone already: its writer finished or cleaned up
        return True

    settled: list[Problem] = []  # written again since they were found: dropped
    for problem in stale:
        advance(1)
        try:
            removed = await anyio.to_thread.run_sync(remove, problem)
        except OSError as error:
            problem.detail += f"; removing it failed: {error}"
            continue
        if removed:
            problem.repaired = True
            problem.detail += "; removed"
        else:
            settled.append(problem)
            report.recent_temporary += 1
    report.drop(settled)
