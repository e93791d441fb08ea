"""`shutterbox migrate-storage --to URL`: every blob copied into another store, checked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shutterbox.config import Settings

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from shutterbox.ports import BlobStore
    from shutterbox.services.storage.migration import MigrationReport, Place


class _Refused(Exception):
    """Bad input or an unusable store: one line to the operator, exit status 2."""


def migrate_storage(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The store to copy into, as SHUTTERBOX_STORAGE_URL takes it: file:///path, "
            "s3://bucket[/prefix], gs://bucket, az://container.",
        ),
    ],
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64, help="Blobs copied at once.")] = 4,
    delete: Annotated[
        bool,
        typer.Option("--delete", help="Remove from the target the blobs the source no longer has."),
    ] = False,
    restore_archived: Annotated[
        bool,
        typer.Option(
            "--restore-archived",
            help="Ask for a restore of every archived original that has no readable copy "
            "(the workers carry it out); run again once they are restored.",
        ),
    ] = False,
) -> None:
    """Copy every blob of the store (SHUTTERBOX_STORAGE_URL) into another store, each checked
    by reading it back (size and SHA-256; originals against their rows), keeping originals'
    storage classes. Run again, it copies only what is new or changed: after a kill, and
    after the service went on writing. Then switch SHUTTERBOX_STORAGE_URL to the target
    (docs/reliability.md). Exit 0: every blob is in the target; 1: some are not (listed);
    2: the command could not run."""
    from rich.console import Console

    from shutterbox.adapters.migration_record import SqliteMigrationRecord, record_path
    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.services.storage import migration

    settings = Settings()
    progress = _progress_bar(Console(stderr=True))

    async def run() -> MigrationReport:
        migration.check_target(settings.resolved_storage_url(), to)
        target, scratch_dir = _open_target(to, settings)
        services = await bootstrap(settings, migrate=False)
        try:
            await _reachable(services.store, "the installation's store")
            await _reachable(target.store, to)
            path = record_path(settings.data_dir / "migrations", to)
            with SqliteMigrationRecord(path, to) as record, progress:
                task = progress.add_task("copying", total=None, blobs="")

                def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
                    blobs = f"{done}/{total} blobs"
                    progress.update(task, completed=done_bytes, total=total_bytes, blobs=blobs)

                return await migration.migrate(
                    services,
                    target,
                    record,
                    scratch_dir,
                    jobs=jobs,
                    delete=delete,
                    restore_archived=restore_archived,
                    progress=on_progress,
                )
        finally:
            await services.close()

    try:
        report = asyncio.run(run())
    except (_Refused, ShutterboxError) as refused:
        message = refused.message if isinstance(refused, ShutterboxError) else str(refused)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from refused
    _print_report(to, report)
    raise typer.Exit(1 if report.problems else 0)


def _open_target(url: str, settings: Settings) -> tuple[Place, Path]:
    """The target store and its classes, and where to put each blob on its way there: on a
    local target, its own temporary directory (a put is then a rename)."""
    from shutterbox.adapters.blobs import LocalBlobStore, TieredBlobStore, open_storage
    from shutterbox.services.storage.migration import Place

    try:
        store, tiers = open_storage(url, {}, settings.staging_dir)
    except Exception as error:  # an unknown scheme, a malformed bucket URL
        raise _Refused(f"cannot open {url}: {_summary(error)}") from error
    hot = store.hot if isinstance(store, TieredBlobStore) else store
    scratch_dir = hot.staging_dir() if isinstance(hot, LocalBlobStore) else settings.staging_dir
    return Place(store, tiers), scratch_dir


async def _reachable(store: BlobStore, name: str) -> None:
    try:
        await store.check()
    except Exception as error:
        raise _Refused(f"cannot reach {name}: {_summary(error)}") from error


def _summary(error: Exception) -> str:
    """The first line of an error: object store clients add pages of debugging detail."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _progress_bar(console: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[blobs]}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _print_report(to: str, report: MigrationReport) -> None:
    parts = [
        f"{report.copied} blobs copied ({report.copied_bytes / 1e6:.1f} MB)",
        f"{report.already} already there",
    ]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.vanished:
        parts.append(f"{report.vanished} gone from the source meanwhile")
    if report.classes_not_kept:
        parts.append(f"{report.classes_not_kept} originals in STANDARD (the target has no classes)")
    if report.restores_requested:
        parts.append(f"{report.restores_requested} restores requested")
    parts.append(f"{len(report.problems)} problems")
    typer.echo(f"to {to}: " + ", ".join(parts))
    for problem in report.problems:
        typer.echo(f"  {problem.kind}: {problem.key}: {problem.detail}", err=True)
