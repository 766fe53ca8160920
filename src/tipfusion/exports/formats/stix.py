"""STIX 2.1: a suspect, network or referral as one bundle (identities, relationships, files; TLP:RED)."""

from __future__ import annotations

import json
from pathlib import Path

from tipfusion.exports.content import Subject
from tipfusion.exports.registry import Renderer

ORDER = 5


def render(content: Subject, output: Path, _synthetic: bool) -> None:
    from tipfusion.refer.interop import stix_bundle

    bundle = stix_bundle(content.dossier, content.reference, content.unit_name, content.synthetic)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


RENDERER = Renderer("stix", frozenset({"subject"}), ".stix.json", "a STIX 2.1 bundle, TLP:RED", render)
