"""Gather, render, audit: the one body of every `tipfusion export` (the CLI parses and prints, nothing more)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tipfusion.exports.content import Snapshot
from tipfusion.exports.registry import Renderer, renderer_for
from tipfusion.exports.sources import Source

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tipfusion.config import Settings
    from tipfusion.exports.content import Content


@dataclass(frozen=True, slots=True)
class Exported:
    content: Content
    renderer: Renderer


def export(
    engine: Engine, settings: Settings, actor: str, source: Source, target: str | None, output: Path, fmt: str | None
) -> Exported:
    """Write `source` (for `target`) to `output` as `fmt` (the source's default when None), marked SYNTHETIC when the
    store is, and record the export in the audit log; the format is checked before anything is gathered."""
    from tipfusion.audit import UnitOfWork
    from tipfusion.documents.staging import staged_file
    from tipfusion.store import repository as repo

    renderer = renderer_for(source.name, source.kind, fmt or source.default)
    content = source.gather(engine, settings, target)
    if isinstance(content, Snapshot) and content.prepare is not None:
        content.prepare(actor)
    with engine.connect() as conn:
        synthetic = repo.get_flag(conn, "synthetic") == "true"
    details: dict[str, Any] = {"rows": content.size, "format": renderer.name}
    if target is not None:
        details["target"] = target
    # one file takes its name once written and audited; a snapshot is a folder of files, written in place
    staging = staged_file(output) if source.kind != "snapshot" else nullcontext(output)
    with staging as work:
        renderer.render(content, work, synthetic)
        with UnitOfWork(engine, actor) as uow:
            uow.record(f"export.{source.name}", "export", str(output), details)
    return Exported(content, renderer)
