"""A manifest lists the SHA-256 of every file of a package, so a recipient can prove nothing was altered."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, names: list[str], about: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Write `manifest.json` (what the package is, and file → SHA-256); return the digests and the manifest's own."""
    digests = {name: sha256_of(folder / name) for name in sorted(names)}
    body = {**about, "algorithm": "SHA-256", "files": digests}
    path = folder / MANIFEST
    path.write_text(json.dumps(body, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return digests, sha256_of(path)


@dataclass
class ManifestCheck:
    folder: Path
    manifest_sha256: str
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.altered or self.missing or self.unlisted)


def verify_manifest(folder: Path) -> ManifestCheck:
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no {MANIFEST} — not a tipfusion package")
    listed: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["files"]
    check = ManifestCheck(folder, sha256_of(path))
    for name, expected in sorted(listed.items()):
        target = folder / name
        if not target.is_file():
            check.missing.append(name)
        elif sha256_of(target) != expected:
            check.altered.append(name)
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    check.unlisted = sorted(present - set(listed))
    return check
