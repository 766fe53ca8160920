"""Handing sealed folders and their parts to the browser: one zip per folder (stored, not recompressed, so each
part keeps its bytes and its SHA-256) and single parts with their digest in a header."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask


def folder_zip(folder: Path, reference: str) -> FileResponse:
    """The folder as `REFERENCE.zip` (slashes → dashes), its parts under the folder's own name; the temporary zip is
    removed once sent."""
    handle, name = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    archive = Path(name)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            out.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    filename = reference.replace("/", "-") + ".zip"
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=filename,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        background=BackgroundTask(archive.unlink, missing_ok=True),
    )
