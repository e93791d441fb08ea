"""The `shutterbox` command."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from typer.core import TyperGroup

from shutterbox.config import Settings
from shutterbox.config.problems import is_about, problems
from shutterbox.entrypoints.cli_backup import backup as backup_command
from shutterbox.entrypoints.cli_backup import restore as restore_command
from shutterbox.entrypoints.cli_cost import cost as cost_command
from shutterbox.entrypoints.cli_export import export as export_command
from shutterbox.entrypoints.cli_lifecycle import lifecycle_app
from shutterbox.entrypoints.cli_migrate import migrate_storage as migrate_storage_command
from shutterbox.entrypoints.cli_scrub import scrub as scrub_command
from shutterbox.entrypoints.process_exit import run_then_exit

BAD_SETTINGS_EXIT = 2  # as for a bad command-line option


class SettingsCheckingGroup(TyperGroup):
    """Every command reads its settings first; when they cannot be read, the command ends
    with one line per problem on stderr (the variable, its value, what is allowed) and exit
    status 2, instead of a traceback. New settings and new commands get this as they are."""

    def invoke(self, ctx: Any) -> Any:  # Typer's own click Context
        try:
            return super().invoke(ctx)
        except (ValidationError, SettingsError) as error:
            if not is_about(Settings, error):
                raise
            for line in problems(Settings, error):
                typer.echo(line, err=True)
            raise typer.Exit(BAD_SETTINGS_EXIT) from None


app = typer.Typer(
    cls=SettingsCheckingGroup,
    help="shutterbox: self-hostable image sharing.",
    no_args_is_help=True,
)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(lifecycle_app, name="lifecycle")
app.command("scrub")(scrub_command)
app.command("cost")(cost_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("export")(export_command)
app.command("migrate-storage")(migrate_storage_command)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pyvips").setLevel(logging.WARNING)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="Background workers (default: CPU count; 0: none)."),
    ] = None,
    no_workers: Annotated[bool, typer.Option(help="Run the API only.")] = False,
    api_processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="API processes answering on the port (default: SHUTTERBOX_API_PROCESSES, 1). "
            "With more than one, the workers run in a process of their own.",
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the API with background workers."""
    _logging()
    settings = Settings()
    count = 0 if no_workers else (settings.workers if workers is None else workers)
    processes = settings.api_processes if api_processes is None else api_processes
    if processes > 1:
        from shutterbox.entrypoints.serving import serve_api_processes

        serve_api_processes(settings, host=host, port=port, api_processes=processes, workers=count)
        return

    import uvicorn

    from shutterbox.entrypoints.http.app import create_app

    uvicorn.run(
        create_app(settings, workers=count),
        host=host,
        port=port,
        log_level="info",
        access_log=settings.access_log,
        proxy_headers=True,
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default: CPU count).")
    ] = None,
    parent_pid: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop when this process is gone (set by `serve`)."),
    ] = None,
) -> None:
    """Run background workers only (no HTTP)."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.entrypoints.worker import WorkerPool, stop_when_orphaned

    _logging()
    settings = Settings()

    async def run() -> None:
        services = await bootstrap(settings)
        pool = WorkerPool(services, concurrency or settings.workers)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watch = None
        if parent_pid is not None:
            watch = asyncio.create_task(stop_when_orphaned(parent_pid, stop))
        pool.start()
        typer.echo(f"worker running with {pool.concurrency} workers")
        await stop.wait()
        if watch is not None:
            watch.cancel()
        await pool.stop()
        await services.close()

    asyncio.run(run())


@app.command()
def migrate() -> None:
    """Create or upgrade the metadata database schema."""
    from shutterbox.adapters.db.engine import open_database
    from shutterbox.adapters.db.migrate import upgrade_to_head

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        db = open_database(settings.resolved_database_url())
        await upgrade_to_head(db)
        await db.dispose()

    asyncio.run(run())
    typer.echo("database is at the latest schema")


@app.command()
def reprocess(
    ids: Annotated[list[str] | None, typer.Argument(help="Images to reprocess.")] = None,
    all_images: Annotated[bool, typer.Option("--all", help="Every image.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed image.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Workers this command runs while it waits (default: CPU count; 0: leave the "
            "work to running servers and workers)."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait for the batch to finish, showing its progress.")
    ] = True,
) -> None:
    """Make variants again (after a size or quality change, or to retry failed images).

    The images are enqueued as bulk work, behind new uploads, for any worker to take; the
    same command run again resumes an unfinished batch."""
    from rich.console import Console

    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.entrypoints import batch

    if not (ids or all_images or failed):
        raise typer.BadParameter("give image IDs, --all or --failed")
    console = Console(stderr=True)
    settings = Settings()

    async def run() -> batch.ReprocessReport:
        services = await bootstrap(settings)
        try:
            return await batch.reprocess(
                services,
                ids or [],
                console,
                everything=all_images,
                failed=failed,
                workers=settings.workers if workers is None else workers,
                wait=wait,
            )
        finally:
            await services.close()

    try:
        report = asyncio.run(run())
    except ShutterboxError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    resumed = " (resuming the unfinished batch)" if report.resumed else ""
    typer.echo(f"{report.enqueued} images enqueued{resumed}, {report.total} in the batch")
    if not wait:
        typer.echo(f"{report.waiting} jobs waiting for workers")
        return
    typer.echo(f"{report.ready} ready, {report.failed_count} failed")
    for image_id, reason in report.failed.items():
        typer.echo(f"  {image_id}: {reason}")
    if report.failed_count > len(report.failed):
        typer.echo(f"  … and {report.failed_count - len(report.failed)} more")
    if report.failed_count:
        raise typer.Exit(1)


@app.command("import")
def import_photos(
    source: Annotated[
        Path,
        typer.Argument(
            exists=True, help="A folder of photos, or an export (a tar, or a folder of one)."
        ),
    ],
    user: Annotated[str, typer.Option(help="The user who will own the images.")],
    private: Annotated[bool, typer.Option(help="Import as private images.")] = False,
    tags: Annotated[str, typer.Option(help="Tags for every imported image.")] = "",
    process: Annotated[
        bool,
        typer.Option(help="Wait until the variants are made (otherwise running workers do)."),
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Workers this command runs while it waits (default: CPU count; 0: leave the "
            "work to running servers and workers)."
        ),
    ] = None,
) -> None:
    """Import a folder of photos (recursively) or an export of `shutterbox export`, skipping
    duplicates and reporting refusals. Photos with a sidecar keep its details.

    The photos' jobs wait in the bulk lane, behind new uploads, for any worker; run again
    after an interruption, it skips what is already imported and waits for what is not yet
    processed."""
    from rich.console import Console

    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.domain.images import Visibility, normalise_tags
    from shutterbox.entrypoints import batch

    settings = Settings()
    try:
        tag_list = normalise_tags(tags, settings.max_tags)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console = Console(stderr=True)

    async def run() -> batch.ImportReport:
        services = await bootstrap(settings)
        try:
            return await batch.import_photos(
                services,
                source,
                user,
                console,
                visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
                tags=tag_list,
                process=process,
                workers=settings.workers if workers is None else workers,
            )
        finally:
            await services.close()

    try:
        report = asyncio.run(run())
    except ShutterboxError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"{len(report.imported)} imported ({report.ready} ready, {len(report.failed)} failed), "
        f"{len(report.duplicates)} duplicates skipped, {len(report.refused)} refused"
    )
    if report.resumed:
        typer.echo(f"(counting {report.resumed} photos of an earlier import still processing)")
    for path, reason in {**report.refused, **report.failed}.items():
        typer.echo(f"  {path}: {reason}")


@app.command("settings")
def show_settings() -> None:
    """Print every setting with the value in force and what it does."""
    settings = Settings()
    for name, field in Settings.model_fields.items():
        typer.echo(f"SHUTTERBOX_{name.upper()}={getattr(settings, name)}")
        typer.echo(f"    {field.description}")


@users_app.command("create")
def create_user(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    admin: Annotated[bool, typer.Option(help="Give the user admin rights.")] = False,
) -> None:
    """Create a user account."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.services.people import accounts

    async def run() -> None:
        services = await bootstrap(Settings())
        try:
            user = await accounts.register(services.metadata, username, password, is_admin=admin)
            typer.echo(f"created user {user.username} (id {user.id})")
        finally:
            await services.close()

    try:
        asyncio.run(run())
    except ShutterboxError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def _moderate(username: str, reason: str, *, suspend: bool) -> None:
    from shutterbox.bootstrap import bootstrap
    from shutterbox.clock import utcnow
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.domain.users import User
    from shutterbox.services.moderation import actions

    operator = User(0, "(shell)", is_admin=True, created_at=utcnow())  # as the audit log names it
    act = actions.suspend_user if suspend else actions.unsuspend_user

    async def run() -> None:
        services = await bootstrap(Settings())
        try:
            await act(services, operator, username, reason)
        finally:
            await services.close()

    try:
        asyncio.run(run())
    except ShutterboxError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{'suspended' if suspend else 'unsuspended'} {username}")


Reason = Annotated[str, typer.Option(help="Why: kept in the moderation audit log.")]


@users_app.command("suspend")
def suspend_user(username: str, reason: Reason) -> None:
    """Suspend an account: no login, its sessions end, its public photos hidden from others."""
    _moderate(username, reason, suspend=True)


@users_app.command("unsuspend")
def unsuspend_user(username: str, reason: Reason) -> None:
    """End an account's suspension."""
    _moderate(username, reason, suspend=False)


def main() -> None:
    """The `shutterbox` command: run it, then end the process with its exit status."""
    run_then_exit(app)


if __name__ == "__main__":
    main()
