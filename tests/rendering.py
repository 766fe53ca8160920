"""Look at a PDF the way a reader does: render a page to PNG (PDFium) and read it back (Tesseract OCR, Hindi +
English). Debian's tesseract is installed when missing, as the browser tests install Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def ensure_tesseract() -> str:
    tool = shutil.which("tesseract")
    if tool is None or "hin" not in subprocess.run([tool, "--list-langs"], capture_output=True, text=True).stdout:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run(["apt-get", "install", "-y", "-q", "tesseract-ocr", "tesseract-ocr-hin"], check=True, env=env)
        tool = shutil.which("tesseract")
    assert tool is not None, "tesseract could not be installed"
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
        [ensure_tesseract(), str(png), "-", "-l", "hin+eng"], capture_output=True, text=True, check=True
    )
    return result.stdout
