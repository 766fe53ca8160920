"""Documents the unit sends: fonts that render Hindi, Word styling, PDFs, and manifests a recipient can verify."""

from tipfusion.documents.fonts import FONT_STACK, font_face_css, vendored_fonts
from tipfusion.documents.manifest import ManifestCheck, verify_manifest, write_manifest
from tipfusion.documents.render import render_pdf, style_docx

__all__ = [
    "FONT_STACK",
    "ManifestCheck",
    "font_face_css",
    "render_pdf",
    "style_docx",
    "vendored_fonts",
    "verify_manifest",
    "write_manifest",
]
