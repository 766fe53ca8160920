"""Documents the unit sends: fonts that render Hindi, Word styling, PDFs, and sealed (BagIt) packages a recipient can
verify with common tools."""

from tipfusion.documents.fonts import FONT_STACK, font_face_css, vendored_fonts
from tipfusion.documents.manifest import BagCheck, Sealed, seal, verify_bag
from tipfusion.documents.render import render_pdf, style_docx

__all__ = [
    "FONT_STACK",
    "BagCheck",
    "Sealed",
    "font_face_css",
    "render_pdf",
    "seal",
    "style_docx",
    "vendored_fonts",
    "verify_bag",
]
