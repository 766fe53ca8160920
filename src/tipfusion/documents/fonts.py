"""Noto Sans and Noto Sans Devanagari (OFL), committed in the package (`tipfusion/assets/fonts`), so a PDF shapes Hindi
correctly on an air-gapped machine whatever fonts the system has, and installing needs nothing beyond PyPI."""

from __future__ import annotations

import logging
from functools import cache
from importlib.resources import files
from pathlib import Path

log = logging.getLogger(__name__)

FONT_STACK = '"Noto Sans", "Noto Sans Devanagari", "DejaVu Sans", sans-serif'

_FACES = [
    ("Noto Sans", "NotoSans_400Regular.ttf", 400),
    ("Noto Sans", "NotoSans_700Bold.ttf", 700),
    ("Noto Sans Devanagari", "NotoSansDevanagari_400Regular.ttf", 400),
    ("Noto Sans Devanagari", "NotoSansDevanagari_700Bold.ttf", 700),
]


def font_folder() -> Path:
    return Path(str(files("tipfusion.assets"))) / "fonts"


@cache
def vendored_fonts() -> dict[str, Path]:
    """The font files present (file name → path); incomplete only in a package built without its data files."""
    folder = font_folder()
    found = {name: folder / name for _, name, _ in _FACES if (folder / name).is_file()}
    if len(found) < len(_FACES):
        log.warning("fonts missing from %s: Hindi may not render in PDFs (reinstall tipfusion)", folder)
    return found


def font_face_css() -> str:
    """@font-face rules for the vendored fonts, for WeasyPrint."""
    present = vendored_fonts()
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; src: url("{present[name].as_uri()}"); font-weight: {weight}; }}'
        for family, name, weight in _FACES
        if name in present
    )
