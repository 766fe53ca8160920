"""`tipfusion config show`: the settings the stages decide by, as they are in effect, and where each came from."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tipfusion.cli.context import AppContext, console, show

config_app = typer.Typer(no_args_is_help=True, help="The unit's settings: what is in effect and where it came from.")


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    section: Annotated[
        str | None, typer.Argument(help="link, triage, routing, deadlines or sessions (default: all)")
    ] = None,
) -> None:
    """Every `[link]`, `[triage]`, `[routing]`, `[deadlines]` and `[sessions]` value in effect: default, the
    settings file (TIPFUSION_CONFIG) or a TIPFUSION_SECTION__KEY variable."""
    from tipfusion.storage import safe_url
    from tipfusion.tuning import SECTIONS, flatten

    app: AppContext = ctx.obj
    if section is not None and section not in SECTIONS:
        raise typer.BadParameter(f"expected one of {', '.join(SECTIONS)}", param_hint="SECTION")
    tuning = app.settings.tuning()
    console.print(f"database: {escape(safe_url(app.settings.database_url))}", soft_wrap=True)  # never its password
    console.print(f"settings file: {escape(app.settings.config_file or 'none (TIPFUSION_CONFIG is not set)')}")
    for name in [section] if section else list(SECTIONS):
        table = Table("key", "value", "from", title=escape(f"[{name}]"))
        for key, value in flatten(getattr(tuning, name), name).items():
            shown = (
                ", ".join(map(str, value))
                if isinstance(value, list | tuple)
                else f"{value:g}"
                if isinstance(value, float)
                else str(value)
            )
            origin = tuning.origins.get(key, "default")
            table.add_row(escape(key.removeprefix(f"{name}.")), escape(shown), escape(origin))
        show(table)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
