"""PDF from HTML (WeasyPrint, vendored fonts), and Word styling that shows Hindi in a police office's Word."""

from __future__ import annotations

import atexit
from functools import cache
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from docx.shared import Pt

from tipfusion.documents.fonts import font_face_css

# Word shapes Devanagari with the complex-script font of a run; Nirmala UI ships with every Windows since 8.
LATIN_FONT = "Noto Sans"
DEVANAGARI_FONT = "Nirmala UI"


@cache
def _fonts() -> tuple[Any, Any]:
    """One font configuration per process: loading the @font-face files is a large part of a short document."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()  # @font-face rules load only through a font configuration shared with the render
    return fonts, CSS(string=font_face_css(), font_config=fonts)


atexit.register(_fonts.cache_clear)  # release it while the interpreter can still run its finaliser


def render_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML

    fonts, faces = _fonts()
    HTML(string=html).write_pdf(str(path), stylesheets=[faces], font_config=fonts)


def style_docx(document: Any, size: float = 10.5) -> None:
    """Normal style: a Latin font, a Devanagari complex-script font and Hindi as the complex-script language."""
    style = document.styles["Normal"]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size)
    properties = style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:cs"), DEVANAGARI_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    language = properties.makeelement(qn("w:lang"), {qn("w:val"): "en-IN", qn("w:bidi"): "hi-IN"})
    properties.append(language)
