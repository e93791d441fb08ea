"""`shutterbox lifecycle`: apply the lifecycle rules now, or write them onto an S3 bucket."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from shutterbox.config import Settings

lifecycle_app = typer.Typer(
    help="Storage lifecycle: class transitions, trash and failed-upload expiry.",
    no_args_is_help=True,
)


@lifecycle_app.command("run")
def run_rules() -> None:
    """Apply the lifecycle rules once: move aged originals to colder classes (or learn that
    the store moved them), drop restored copies whose days are up, empty the trash of
    images past the retention, remove old failed and abandoned uploads."""
    from rich.console import Console
    from rich.table import Table

    from shutterbox.bootstrap import bootstrap
    from shutterbox.services.storage import lifecycle

    async def run() -> lifecycle.LifecycleReport:
        services = await bootstrap(Settings())
        try:
            return await lifecycle.run_lifecycle(services)
        finally:
            await services.close()

    report = asyncio.run(run())
    table = Table("step", "count")
    for storage_class, count in sorted(report.transitioned.items()):
        table.add_row(f"originals moved to {storage_class}", str(count))
    for storage_class, count in sorted(report.observed.items()):
        table.add_row(f"originals found already in {storage_class}", str(count))
    table.add_row("restored copies dropped", str(report.restores_ended))
    table.add_row("trashed images purged", str(report.trash_purged))
    table.add_row("failed uploads purged", str(report.failed_purged))
    table.add_row("abandoned direct uploads cleared", str(report.direct_uploads_cleared))
    table.add_row("search index merge steps", str(report.search_index_merge_steps))
    console = Console()
    console.print(table)
    for problem in report.problems:
        console.print(f"[red]problem:[/red] {problem}")
    if report.problems:
        raise typer.Exit(1)


@lifecycle_app.command("apply")
def apply_to_bucket(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the rules without writing them.")
    ] = False,
) -> None:
    """Write the equivalent lifecycle configuration onto the S3 bucket, so that S3 itself
    moves originals to colder classes and expires unfinished uploads (rules written by
    others are kept). The lifecycle pass then learns of the moves."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import ShutterboxError
    from shutterbox.services.storage import bucket_rules

    async def run() -> list[dict[str, object]]:
        services = await bootstrap(Settings())
        try:
            if dry_run:
                return bucket_rules.desired_rules(services)
            return await bucket_rules.apply(services)
        finally:
            await services.close()

    try:
        rules = asyncio.run(run())
    except ShutterboxError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps({"Rules": rules}, indent=2, default=str))
