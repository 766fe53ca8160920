"""The certificate that lets a court admit the package's parts as electronic records (BSA 2023 s.63(4)(c)).

It names the system that produced the records (tipfusion and its version, the computer, the store), each part's
SHA-256, the date and the certifying officer, in the Schedule's Part A / Part B shape, with blanks the officer and
the expert fill in by hand. It comes from a Jinja2 template (`certificate.html.j2`) a unit replaces through
TIPFUSION_TEMPLATES_DIR; the PDF and the Word file are both rendered from that one template.
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tipfusion import __version__
from tipfusion.documents.blocks import SYNTHETIC_BANNER, template_environment
from tipfusion.documents.fonts import FONT_STACK
from tipfusion.documents.manifest import digest_of
from tipfusion.documents.render import html_to_docx, render_pdf

TEMPLATE = "certificate.html.j2"


@dataclass(frozen=True)
class Part:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class CertificateFacts:
    reference: str
    title: str  # what the records are, e.g. "referral package TF/REF/2026/000001"
    produced: datetime  # in the display zone
    zone: str
    officer: str
    unit: str
    store: str  # the database, its password hidden
    parts: tuple[Part, ...]
    key_fingerprint: str | None
    synthetic: bool
    check: str = "anyone can check them with sha256sum -c manifest-sha256.txt in the package folder"

    @property
    def date(self) -> str:
        return f"{self.produced:%d/%m/%Y}"

    @property
    def time(self) -> str:
        return f"{self.produced:%H:%M}"

    @property
    def system(self) -> str:
        return f"tipfusion {__version__} (Python {platform.python_version()})"

    @property
    def computer(self) -> str:
        return socket.gethostname()

    @property
    def operating_system(self) -> str:
        return platform.platform()


def parts_of(folder: Path, names: list[str]) -> tuple[Part, ...]:
    return tuple(Part(n, (folder / n).stat().st_size, digest_of(folder / n)) for n in sorted(names))


def write_certificate(facts: CertificateFacts, folder: Path, stem: str, templates: Path | None = None) -> list[str]:
    """Write `<stem>-certificate.pdf` and `.docx` into `folder`; return their names."""
    html = (
        template_environment(templates)
        .get_template(TEMPLATE)
        .render(c=facts, font_stack=FONT_STACK, banner=SYNTHETIC_BANNER)
    )
    names = [f"{stem}-certificate.pdf", f"{stem}-certificate.docx"]
    render_pdf(html, folder / names[0])
    html_to_docx(html, folder / names[1])
    return names
