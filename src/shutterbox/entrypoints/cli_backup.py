"""`shutterbox backup DEST` and `shutterbox restore SRC`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from shutterbox.config import Settings


def backup(
    destination: Annotated[Path, typer.Argument(help="A directory (kept between backups).")],
) -> None:
    """Back up the installation while it serves: the SQLite database (a consistent snapshot),
    the signing key, and every blob with a manifest of their SHA-256; blobs already in DEST
    unchanged are not copied again. On PostgreSQL, back up the database with pg_dump."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.services.storage import backup as backups

    async def run() -> backups.BackupReport:
        services = await bootstrap(Settings(), migrate=False)
        try:
            return await backups.backup(services, destination)
        finally:
            await services.close()

    report = asyncio.run(run())
    typer.echo(
        f"backed up to {destination}: {report.copied} blobs copied "
        f"({report.copied_bytes / 1e6:.1f} MB), {report.kept} unchanged"
    )
    if report.database == "postgresql":
        typer.echo("the database is PostgreSQL: back it up with pg_dump (docs/reliability.md)")


def restore(
    source: Annotated[Path, typer.Argument(help="A directory `shutterbox backup` wrote.")],
) -> None:
    """Restore a backup into an empty data directory (SHUTTERBOX_DATA_DIR), every blob
    checked against its SHA-256; then `shutterbox serve` as usual."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.services.storage import backup as backups

    settings = Settings()
    try:
        manifest = backups.check_restorable(settings, source)
    except ShutterboxError as refused:
        typer.echo(f"error: {refused.message}", err=True)
        raise typer.Exit(2) from refused
    backups.restore_database(settings, source)

    async def run() -> int:
        services = await bootstrap(settings)
        try:
            return await backups.restore_blobs(services, source, manifest)
        finally:
            await services.close()

    try:
        count = asyncio.run(run())
    except ShutterboxError as failed:
        typer.echo(f"error: {failed.message}", err=True)
        raise typer.Exit(2) from failed
    typer.echo(f"restored {count} blobs and the database into {settings.data_dir}")
