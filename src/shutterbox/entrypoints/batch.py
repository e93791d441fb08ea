"""Batch work from the shell: reprocessing variants and importing photos (a folder, or an
export archive)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shutterbox.domain.details import UploadDetails, tags_from
from shutterbox.domain.errors import InvalidInput, NotFound, ShutterboxError
from shutterbox.domain.images import Image, Status, Visibility
from shutterbox.domain.jobs import Lane
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.images import import_sources, lookup, reprocessing, uploads


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@dataclass
class ReprocessReport:
    enqueued: int = 0
    total: int = 0
    resumed: bool = False
    ready: int = 0
    failed_count: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # the latest FAILURES_SHOWN of them
    waiting: int = 0  # jobs left in the queue when the command stopped watching


FAILURES_SHOWN = 100  # failed images a reprocess lists with their reasons


async def reprocess(
    services: Services,
    ids: Iterable[str],
    console: Console,
    *,
    everything: bool = False,
    failed: bool = False,
    workers: int = 0,
    wait: bool = True,
) -> ReprocessReport:
    """Enqueue the reprocessing (``services.images.reprocessing``), then, when ``wait``,
    watch the batch drain with a progress bar while ``workers`` workers of this process help
    whatever workers are running elsewhere."""
    started = await reprocessing.start(services, list(ids), everything=everything, failed=failed)
    report = ReprocessReport(started.added, started.total, started.batch.resumed)
    if not wait:
        report.waiting = (
            await reprocessing.progress(services, started.batch, started.total)
        ).remaining
        return report
    pool = None
    if workers > 0:
        from shutterbox.entrypoints.worker import WorkerPool

        pool = WorkerPool(services, workers)
        pool.start()
    try:
        with _progress(console) as bar:
            task = bar.add_task("reprocessing", total=started.total)
            while True:
                now = await reprocessing.progress(services, started.batch, started.total)
                bar.update(task, completed=now.settled, total=now.total)
                if now.remaining == 0:
                    break
                await asyncio.sleep(0.25)
    finally:
        if pool is not None:
            await pool.stop()
    await services.queue.finish_batch(started.batch.id)
    ended = await reprocessing.outcome(services, started, FAILURES_SHOWN)
    report.ready, report.failed_count = ended.ready, ended.failed
    report.failed = {row.id: row.failure_reason or "failed" for row in ended.failures}
    return report


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    ready: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    resumed: int = 0  # photos of an earlier import, still processing, waited for too


def _details_for(
    candidate: import_sources.Candidate,
    visibility: Visibility,
    tags: list[str],
    max_tags: int,
) -> UploadDetails:
    """A sidecar's details (made private by ``--private``, with ``tags`` added), or else the
    command's."""
    if candidate.sidecar is None:
        return UploadDetails(visibility=visibility, tags=list(tags))
    details = replace(candidate.sidecar.details)
    if visibility == Visibility.PRIVATE:
        details.visibility = visibility
    details.tags = tags_from([*details.tags, *tags], max_tags)
    return details


async def import_photos(
    services: Services,
    source: Path,
    username: str,
    console: Console,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    tags: list[str] | None = None,
    process: bool = True,
    workers: int = 1,
) -> ImportReport:
    """Upload every photo of ``source`` (a folder, an export archive or an extracted one) for
    ``username``, with the details of its sidecar if it has one; their jobs wait in the bulk
    lane for any worker. Run again after an interruption, it skips what is already there (by
    checksum) and, when ``process``, waits for those still processing too, with ``workers``
    workers of this process helping (0: leave the work to running servers and workers)."""
    owner = await lookup.find_user(services, username)
    if owner is None:
        raise NotFound(f"no user called {username!r}")
    report = ImportReport()
    by_id: dict[str, str] = {}
    settings = services.settings
    limits = uploads.detail_limits(settings)
    with (
        import_sources.ImportSource(
            source, services.staging_dir, settings.max_upload_bytes, limits
        ) as photos,
        _progress(console) as progress,
    ):
        candidates = await anyio.to_thread.run_sync(photos.candidates)
        task = progress.add_task("importing", total=len(candidates))
        for candidate in candidates:
            try:
                image, outcome = await _import_one(
                    services,
                    owner,
                    candidate,
                    _details_for(candidate, visibility, tags or [], settings.max_tags),
                )
            except ShutterboxError as refused:
                report.refused[candidate.name] = refused.message
            else:
                if outcome == uploads.Outcome.DUPLICATE:
                    report.duplicates.append(candidate.name)
                    if image.status == Status.PROCESSING:  # an earlier import's, still waiting
                        by_id[image.id] = candidate.name
                        report.resumed += 1
                else:
                    report.imported.append(image.id)
                    by_id[image.id] = candidate.name
            progress.advance(task)
        if process and by_id:
            await _process_imported(services, by_id, report, progress, workers)
    return report


async def _import_one(
    services: Services, owner: User, candidate: import_sources.Candidate, details: UploadDetails
) -> tuple[Image, uploads.Outcome]:
    if candidate.refused is not None or candidate.stage is None:
        raise InvalidInput(candidate.refused or "nothing to import")
    staged = await anyio.to_thread.run_sync(candidate.stage)
    sidecar = candidate.sidecar
    if sidecar is not None and sidecar.sha256 not in (None, staged.sha256):
        staged.path.unlink(missing_ok=True)
        raise InvalidInput("the bytes do not match the SHA-256 its sidecar records")
    return await uploads.accept_upload(
        services,
        owner,
        staged,
        details,
        lane=Lane.BULK,
        created_at=sidecar.created_at if sidecar else None,
        taken_at=sidecar.taken_at if sidecar else None,
        # a photo imported again is reported as a duplicate and keeps the details it has
        # now (edited since, perhaps), whatever an older sidecar says
        refuse_unkept_details=False,
    )


async def _process_imported(
    services: Services,
    by_id: dict[str, str],
    report: ImportReport,
    progress: Progress,
    workers: int,
) -> None:
    from shutterbox.entrypoints.worker import WorkerPool

    task = progress.add_task("processing", total=len(by_id))
    pool = WorkerPool(services, workers) if workers > 0 else None
    if pool is not None:
        pool.start()
    pending = set(by_id)
    try:
        while pending:
            await asyncio.sleep(0.2)
            rows = await lookup.states(services, list(pending))
            for row in rows:
                if row.status == Status.PROCESSING.value:
                    continue
                pending.discard(row.id)
                if row.status == Status.READY.value:
                    report.ready += 1
                else:
                    report.failed[by_id[row.id]] = row.failure_reason or "failed"
                progress.advance(task)
    finally:
        if pool is not None:
            await pool.stop()
