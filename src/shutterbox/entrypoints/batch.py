"""Batch work from the shell: reprocessing variants and importing a folder of photos."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shutterbox.domain.details import UploadDetails
from shutterbox.domain.errors import NotFound, ShutterboxError
from shutterbox.domain.images import Status, Visibility
from shutterbox.services.context import Services
from shutterbox.services.images import lookup, processing, uploads
from shutterbox.services.images.staging import stage_local_file


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


async def select_for_reprocessing(
    services: Services, ids: Iterable[str], *, everything: bool, failed: bool
) -> list[str]:
    ids = list(ids)
    found = await lookup.live_ids(services, None if everything else ids, failed_only=failed)
    missing = set(ids) - set(found) if not (everything or failed) else set()
    if missing:
        raise NotFound(f"no such image: {', '.join(sorted(missing))}")
    return found


@dataclass
class ReprocessReport:
    ready: int = 0
    failed: dict[str, str] = field(default_factory=dict)


async def reprocess(services: Services, ids: list[str], console: Console) -> ReprocessReport:
    """Make the variants of ``ids`` again, ``settings.workers`` at a time."""
    report = ReprocessReport()
    limit = asyncio.Semaphore(max(1, services.settings.workers))
    with _progress(console) as progress:
        task = progress.add_task("reprocessing", total=len(ids))

        async def one(image_id: str) -> None:
            async with limit:
                try:
                    await processing.process_image(services, image_id, force=True)
                except Exception as error:  # reported, and the batch goes on
                    report.failed[image_id] = f"{type(error).__name__}: {error}"
                else:
                    image = await lookup.find_image(services, image_id)
                    if image is not None and image.status == Status.READY:
                        report.ready += 1
                    elif image is not None:
                        report.failed[image_id] = image.failure_reason or image.status.value
                progress.advance(task)

        await asyncio.gather(*(one(i) for i in ids))
    return report


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    duplicates: list[Path] = field(default_factory=list)
    refused: dict[Path, str] = field(default_factory=dict)
    ready: int = 0
    failed: dict[Path, str] = field(default_factory=dict)


def files_to_import(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


async def import_folder(
    services: Services,
    folder: Path,
    username: str,
    console: Console,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    tags: list[str] | None = None,
    process: bool = True,
) -> ImportReport:
    owner = await lookup.find_user(services, username)
    if owner is None:
        raise NotFound(f"no user called {username!r}")
    report = ImportReport()
    files = files_to_import(folder)
    by_id: dict[str, Path] = {}
    with _progress(console) as progress:
        task = progress.add_task("importing", total=len(files))
        for path in files:
            try:
                staged = await anyio.to_thread.run_sync(
                    stage_local_file, services.staging_dir, services.settings.max_upload_bytes, path
                )
                details = UploadDetails(visibility=visibility, tags=list(tags or []))
                image, outcome = await uploads.accept_upload(services, owner, staged, details)
            except ShutterboxError as refused:
                report.refused[path] = refused.message
            else:
                if outcome == uploads.Outcome.DUPLICATE:
                    report.duplicates.append(path)
                else:
                    report.imported.append(image.id)
                    by_id[image.id] = path
            progress.advance(task)
        if process and report.imported:
            await _process_imported(services, by_id, report, progress)
    return report


async def _process_imported(
    services: Services, by_id: dict[str, Path], report: ImportReport, progress: Progress
) -> None:
    from shutterbox.entrypoints.worker import WorkerPool

    task = progress.add_task("processing", total=len(by_id))
    pool = WorkerPool(services, max(1, services.settings.workers))
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
        await pool.stop()
