"""Look at a PDF the way a reader does: render a page to PNG (PDFium) and read it back (Tesseract OCR, Hindi +
English). Debian's tesseract and its Hindi data come from `make ocr` (which `make test` runs), as Chromium comes from
`make browser`: a test does not install packages."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

# Tesseract's OpenMP threads spin while they wait: on this 2-core machine, under pytest-xdist, one page read with the
# default threads cost ~18 s of CPU (11 s user, 7 s sys) against ~3.8 s with one thread, for the same text.
ONE_THREAD = {"OMP_THREAD_LIMIT": "1"}


def read_on(db_url: str) -> bool:
    """Whether a test on this database also reads its PDF's pages by OCR. What OCR checks (Devanagari shaped by the
    vendored font, in the order a reader sees it) is the renderer's work, the same code over the same rows on either
    database: it is read once, on SQLite. The PDFs of both databases still have their text checked (text layer,
    Word file). A page read costs ~3–4 s of CPU."""
    return db_url.startswith("sqlite")


@cache
def ensure_tesseract() -> str:
    tool = shutil.which("tesseract")
    languages = subprocess.run([tool, "--list-langs"], capture_output=True, text=True).stdout if tool else ""
    has_hindi = "hin" in languages.split()
    assert tool is not None and has_hindi, "Tesseract with its Hindi data is missing: run `make ocr` (make test does)"
    return tool


def page_png(pdf: Path, page: int, output: Path, dpi: int = 300) -> Path:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    index = page if page >= 0 else len(document) + page
    document[index].render(scale=dpi / 72).to_pil().save(output)
    document.close()
    return output


def read_page(pdf: Path, page: int, workdir: Path) -> str:
    """OCR text of one page (negative = from the end)."""
    png = page_png(pdf, page, workdir / f"{pdf.stem}-p{page}.png")
    result = subprocess.run(
        [ensure_tesseract(), str(png), "-", "-l", "hin+eng"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ONE_THREAD},
    )
    return result.stdout
