"""Export formats as a registry: every module in `tipfusion.exports.formats` defines one `RENDERER`, found here.

Adding a format is one new module there (its renderer says which content — table, graph, subject — it accepts); the
sources (`tipfusion.exports.sources`) say what they produce, and the command line offers each source every format
that accepts its content. Renderer modules import only the standard library at the top (the command line lists the
formats at start-up); the library a format needs is imported when it renders.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tipfusion.errors import ConfigurationError


@dataclass(frozen=True)
class Renderer:
    name: str  # what --format takes
    accepts: frozenset[str]  # content kinds: table, graph, subject
    suffix: str  # the usual file suffix, for messages and defaults
    description: str
    render: Callable[[Any, Path, bool], None]  # (content, output, synthetic store) → writes output


@cache
def renderers() -> dict[str, Renderer]:
    """Every registered format by name, in the order of their `ORDER` (then name)."""
    from tipfusion.exports import formats

    found: list[tuple[int, Renderer]] = []
    for info in pkgutil.iter_modules(formats.__path__):
        module = importlib.import_module(f"{formats.__name__}.{info.name}")
        renderer = getattr(module, "RENDERER", None)
        if isinstance(renderer, Renderer):
            found.append((getattr(module, "ORDER", 100), renderer))
    return {r.name: r for _, r in sorted(found, key=lambda pair: (pair[0], pair[1].name))}


def formats_for(kind: str) -> list[str]:
    """The formats that can render one kind of content."""
    return [name for name, r in renderers().items() if kind in r.accepts]


def renderer_for(what: str, kind: str, fmt: str) -> Renderer:
    """The renderer for `--format fmt`, or an error naming the formats `export what` does have."""
    renderer = renderers().get(fmt.lower())
    if renderer is None or kind not in renderer.accepts:
        choices = ", ".join(formats_for(kind))
        raise ConfigurationError(f"--format {fmt!r}: `export {what}` is written as one of {choices}")
    return renderer
