"""What every command needs: settings, an engine, the actor, and one place that prints errors."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cached_property

from rich.console import Console
from sqlalchemy import Engine

from tipfusion.audit import current_actor
from tipfusion.config import Settings
from tipfusion.store import repository as repo
from tipfusion.store.db import ensure_schema, make_engine

_WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160"))
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False)

SYNTHETIC_BANNER = "[bold yellow]SYNTHETIC DATA[/] — this store holds generated test data, not real reports."


@dataclass
class AppContext:
    settings: Settings
    actor_override: str | None = None
    database_explicit: bool = False

    @property
    def actor(self) -> str:
        return current_actor(self.actor_override)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    def ready_engine(self) -> Engine:
        """The engine with its schema at head (migrations run automatically)."""
        ensure_schema(self.engine)
        return self.engine

    def banner(self) -> None:
        """Say so when the store holds synthetic data: on every output."""
        with self.ready_engine().connect() as conn:
            if repo.get_flag(conn, "synthetic") == "true":
                console.print(SYNTHETIC_BANNER)
