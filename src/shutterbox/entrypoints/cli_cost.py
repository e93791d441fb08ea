"""`shutterbox cost`: what a workload costs a month, on the price sheet in force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shutterbox.config import Settings
from shutterbox.domain.cost.inputs import ALL_VARIANTS_TEXT, DEFAULT_INPUTS


def cost(
    daily_uploads: Annotated[
        int, typer.Option(min=0, help="Uploads a day.")
    ] = DEFAULT_INPUTS.daily_uploads,
    variants: Annotated[
        str, typer.Option(help="Comma-separated variants kept besides the original.")
    ] = ALL_VARIANTS_TEXT,
    originals_class: Annotated[
        str,
        typer.Option(
            help="Class of the originals: STANDARD, STANDARD_IA, GLACIER_IR, "
            "GLACIER or DEEP_ARCHIVE."
        ),
    ] = "STANDARD",
    cdn: Annotated[bool, typer.Option("--cdn/--no-cdn", help="Serve views through a CDN.")] = True,
    hit_rate: Annotated[
        float | None, typer.Option(help="CDN hit rate, 0-1 (default: the price sheet's).")
    ] = None,
    views_per_upload: Annotated[
        float | None, typer.Option(help="Views each upload gets (default: the price sheet's).")
    ] = None,
    view_kb: Annotated[
        float | None, typer.Option(help="KB a view downloads (default: the price sheet's).")
    ] = None,
    months: Annotated[int, typer.Option(help="Months to project.")] = DEFAULT_INPUTS.months,
    price_sheet: Annotated[
        Path | None,
        typer.Option(
            "--price-sheet",
            help="A TOML price sheet (default: SHUTTERBOX_PRICE_SHEET_PATH, or the built-in).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the JSON of GET /api/v1/cost/estimate.")
    ] = False,
) -> None:
    """Estimate the monthly bill of a workload: storage, egress and the database."""
    from rich.console import Console
    from rich.table import Table

    from shutterbox.domain import cost as model
    from shutterbox.entrypoints.cost_json import estimate_body

    try:
        sheet = model.load_price_sheet(price_sheet or Settings().price_sheet_path)
    except model.PriceSheetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    try:
        inputs = model.EstimateInputs.from_values(
            daily_uploads=daily_uploads,
            variants=variants,
            originals_class=originals_class,
            cdn=cdn,
            cdn_hit_rate=hit_rate,
            views_per_upload=views_per_upload,
            view_kb=view_kb,
            months=months,
        )
        result = model.estimate(inputs, sheet)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    if json_output:
        typer.echo(json.dumps(estimate_body(result, sheet).model_dump(mode="json"), indent=2))
        return

    console = Console()
    table = Table()
    table.add_column("")
    table.add_column("a month", justify="right")
    table.add_row("Per upload", f"{result.per_upload_mb:,.2f} MB")
    table.add_row("Stored (one month of uploads)", f"{result.stored_tb:,.2f} TB")
    table.add_row("Egress (what viewers download)", f"{result.egress_tb:,.2f} TB")
    table.add_section()
    table.add_row("Storage", f"${result.storage_usd:,.2f}")
    table.add_row("Egress", f"${result.egress_usd:,.2f}")
    table.add_row("SQL metadata", f"${result.sql_usd:,.2f}")
    table.add_row("Total", f"${result.total_usd:,.2f}", style="bold")
    last = result.months[-1]
    if last.month > 1:
        table.add_section()
        table.add_row(
            f"Month {last.month} ({last.stored_tb:,.2f} TB stored)", f"${last.total_usd:,.2f}"
        )
    console.print(table)
    console.print(result.verdict)
    console.print(result.advice)
    console.print(f"Prices: {sheet.name}", style="dim")
