"""`tipfusion synth`: a synthetic batch with ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tipfusion.cli.context import console, safe


def synth(
    ctx: typer.Context,
    reports: Annotated[int, typer.Option("--reports", min=1, help="How many reports")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same batch)")] = 1,
    out: Annotated[Path, typer.Option("--out", help="Output directory")] = Path("synthetic"),
    fmt: Annotated[str, typer.Option("--format", help="xml (ESP reporting XML) or json (police export)")] = "xml",
    as_zip: Annotated[bool, typer.Option("--zip", help="Write the reports as one batch.zip")] = False,
) -> None:
    """Write synthetic reports (reserved IP ranges, example domains, Faker names; no media) and truth.csv."""
    from tipfusion.extras import demo_generator

    ctx.obj.output(out, "--out")
    if fmt not in {"xml", "json"}:
        raise typer.BadParameter("--format must be xml or json")
    result = demo_generator()(out, reports, seed, fmt, as_zip)
    console.print(
        f"[bold yellow]SYNTHETIC DATA[/]: {result.reports:,} reports, {result.files:,} files, "
        f"{result.persons:,} persons, {result.networks:,} networks, {result.lead_rows} lead rows "
        f"→ {safe(result.out)} (ground truth in {safe(result.out / 'truth.csv')})",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
