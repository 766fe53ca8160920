"""A referral's package parts as a station opens them in the browser: the PDF, the Word file, the annex workbook,
the JSON, the certificate — each checked against the SHA-256 the store recorded before it is handed out, and each
opening written to the audit log (who opened which part of which referral).

Only the parts the package's manifest names are served, and only from its own folder, so a crafted name cannot reach
another file on the server.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from tipfusion.accounts.principal import Principal
from tipfusion.audit import UnitOfWork
from tipfusion.documents.manifest import PAYLOAD, digest_of
from tipfusion.errors import IntegrityFailure, NotFound
from tipfusion.workplace.scope import deny, visible_referral

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
    ".csv": "text/csv",
    ".txt": "text/plain",
}
INLINE = frozenset({".pdf"})
"""Parts a browser shows itself (the rest download)."""


@dataclass(frozen=True, slots=True)
class PackagePart:
    reference: str
    name: str  # as the manifest names it
    path: Path
    media_type: str
    sha256: str
    inline: bool  # shown in the browser rather than downloaded


def located(folder: Path, name: str) -> Path | None:
    """The part's file inside the package folder (the bag's payload, or the folder itself for older packages)."""
    root = folder.resolve()
    for candidate in (folder / PAYLOAD / name, folder / name):
        resolved = candidate.resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved
    return None


def package_part(engine: Engine, principal: Principal, reference: str, name: str) -> PackagePart:
    """One part of a referral the principal may see, after its bytes were checked against the stored SHA-256.

    NotFound (audited) for a referral out of scope or a name the package does not hold; IntegrityFailure when the
    file on disk no longer matches (it is not served).
    """
    with engine.connect() as conn:
        row = visible_referral(conn, principal, reference, "referral.part")
        files: dict[str, str] = dict(row.files or {})
        if name not in files:
            raise deny(conn, principal, "referral", f"{row.reference}/{name}", "referral.part", "no such part")
    path = located(Path(row.output_dir), name)
    if path is None:
        raise NotFound(f"referral {row.reference}: part {name!r} is missing from {row.output_dir}")
    found = digest_of(path)
    if found != files[name]:
        raise IntegrityFailure(
            f"referral {row.reference}: part {name!r} no longer matches its SHA-256 (stored {files[name]}, "
            f"found {found}); it is not served — check the package with `tipfusion refer verify`"
        )
    suffix = path.suffix.lower()
    media = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    with UnitOfWork(engine, principal.username) as uow:
        details = {"part": name, "sha256": found, "bytes": path.stat().st_size}
        uow.record("referral.part_opened", "referral", row.reference, details)
    return PackagePart(row.reference, name, path, media, found, suffix in INLINE)
