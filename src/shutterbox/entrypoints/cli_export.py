"""`shutterbox export --user NAME`: a user's photos and their details, as one tar file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from shutterbox.config import Settings


def export(
    user: Annotated[str, typer.Option(help="Whose images to export.")],
    output: Annotated[
        Path | None,
        typer.Option(help="The tar file to write (default: shutterbox-export-NAME.tar here)."),
    ] = None,
    skip_archived: Annotated[
        bool,
        typer.Option(
            help="Leave out originals in archive storage that are not restored (listed in the "
            "archive's shutterbox-export.json) instead of stopping."
        ),
    ] = False,
) -> None:
    """Export a user's images (private ones too, not the trash): each original with a JSON
    sidecar of its details, in a tar that `shutterbox import` reads back. The same bytes as
    GET /api/v1/users/me/export."""
    from shutterbox.bootstrap import bootstrap
    from shutterbox.domain.errors import NotFound, ShutterboxError
    from shutterbox.services.images import lookup
    from shutterbox.services.people import export as exports

    async def run() -> tuple[Path, exports.ExportPlan]:
        services = await bootstrap(Settings(), migrate=False)
        try:
            owner = await lookup.find_user(services, user)
            if owner is None:
                raise NotFound(f"no user called {user!r}")
            plan = await exports.plan_export(services, owner, skip_archived=skip_archived)
            target = output or Path(plan.filename)
            partial = target.with_name(target.name + ".partial")
            try:
                with open(partial, "wb") as out:
                    async for chunk in exports.read_range(services, plan):
                        out.write(chunk)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(target)
            return target, plan
        finally:
            await services.close()

    try:
        target, plan = asyncio.run(run())
    except ShutterboxError as refused:
        typer.echo(f"error: {refused.message}", err=True)
        raise typer.Exit(1) from refused
    except exports.ExportBroken as broken:
        typer.echo(f"error: {broken}; run the export again", err=True)
        raise typer.Exit(1) from broken
    typer.echo(f"exported {plan.count} images ({plan.size / 1e6:.1f} MB) to {target}")
    for left_out in plan.not_included:
        typer.echo(f"  not included: {left_out['id']}: {left_out['reason']}")
