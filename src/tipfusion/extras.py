"""Optional extras. The `demo` extra (Faker, mmdb-writer) only generates synthetic batches and their demo reference
files, so a unit running on real data installs without it; the commands that need it say so in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tipfusion.errors import ConfigurationError

if TYPE_CHECKING:
    from tipfusion.synth.generate import GenerateResult

DEMO_MODULES = frozenset({"faker", "mmdb_writer", "netaddr"})


def demo_generator() -> Callable[..., GenerateResult]:
    """`tipfusion.synth.generate`, imported only when a command needs it; a missing demo extra is a one-line error."""
    try:
        from tipfusion.synth import generate
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in DEMO_MODULES:
            raise
        raise ConfigurationError(
            f"synthetic data needs the optional `demo` extra ({exc.name} is not installed): "
            "pip install 'tipfusion[demo]' (`make run` installs it)"
        ) from None
    return generate
