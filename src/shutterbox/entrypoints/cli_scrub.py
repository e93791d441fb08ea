"""`shutterbox scrub`: check that the metadata and the bytes agree, and repair what can be."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from shutterbox.config import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from shutterbox.services.storage.scrub import ScrubReport


def scrub(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Remake missing or damaged variants, remove orphans and stale temporary files.",
        ),
    ] = False,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours",
            min=0,
            help="Unreferenced blobs and temporary files younger than this are left alone "
            "(work in progress may still claim them).",
        ),
    ] = 24.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of a table.")
    ] = False,
) -> None:
    """Check every image's original and variants against their rows (size and SHA-256) and
    every stored blob against the rows; --repair fixes what can be fixed.

    Exit status:

    0: nothing was wrong.

    1: problems were found, and all were repaired (or can be, with --repair).

    2: something cannot be repaired (a missing or damaged original) or was not.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from shutterbox.bootstrap import bootstrap
    from shutterbox.services.storage import scrub as scrubbing

    settings = Settings()
    progress = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def on_progress(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    async def run() -> ScrubReport:
        services = await bootstrap(settings)
        try:
            with progress:
                return await scrubbing.scrub(
                    services,
                    repair=repair,
                    grace=timedelta(hours=grace_hours),
                    progress=on_progress,
                )
        finally:
            await services.close()

    report = asyncio.run(run())
    if json_output:
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        _print_report(Console(), report)
    raise typer.Exit(report.exit_status)


def _print_report(console: Console, report: ScrubReport) -> None:
    from rich.table import Table

    from shutterbox.services.storage.scrub import CLEAN

    console.print(report.counts_line(), highlight=False)
    if report.clean:
        console.print(CLEAN)
        return
    table = Table()
    table.add_column("problem", no_wrap=True)
    table.add_column("key", overflow="fold")
    table.add_column("image", no_wrap=True)
    table.add_column("detail")
    table.add_column("outcome")
    for row in report.rows():
        table.add_row(*row)
    console.print(table)
    console.print(report.totals_line(), highlight=False)
