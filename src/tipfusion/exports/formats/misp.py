"""MISP: a suspect, network or referral as one MISP event (JSON), validated before it is written."""

from __future__ import annotations

import json
from pathlib import Path

from tipfusion.exports.content import Subject
from tipfusion.exports.registry import Renderer

ORDER = 4


def render(content: Subject, output: Path, _synthetic: bool) -> None:
    from tipfusion.refer.interop import misp_event, validate_misp

    event = misp_event(content.dossier, content.reference, content.synthetic)
    validate_misp(event)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(event, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


RENDERER = Renderer("misp", frozenset({"subject"}), ".misp.json", "a MISP event (JSON), TLP:RED", render)
