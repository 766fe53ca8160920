"""Seal a package as a BagIt bag (RFC 8493), signed with the unit's key, so a recipient can check it without tipfusion.

The same layout for referrals and ISP notices: the parts under `data/`, `manifest-sha256.txt` (what
`sha256sum -c manifest-sha256.txt` and `bagit.py --validate` read), `bag-info.txt` saying what the package is, and
when a key is configured a raw Ed25519 signature of the manifest (`manifest-sha256.txt.sig`) with the public key
(`signing-key.pub.pem`) that `openssl pkeyutl -verify -pubin -rawin` checks. The bag is written by bagit-python
(the Library of Congress's reference implementation), which changes the working directory while it writes:
packages are built one at a time, never from threads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from tipfusion import __version__
from tipfusion.errors import IntegrityFailure, TipfusionError
from tipfusion.keys.signing import Signer, fingerprint, public_from_pem, signature_valid

PAYLOAD = "data"
MANIFEST = "manifest-sha256.txt"
SIGNATURE = MANIFEST + ".sig"
PUBLIC_KEY = "signing-key.pub.pem"
TAG_MANIFEST_PREFIX = "tagmanifest-"
OPENSSL_CHECK = f"openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {MANIFEST} -sigfile {SIGNATURE}"


def key_line(key_fingerprint: str | None) -> tuple[str, str]:
    """The unit's key fingerprint as every letter and referral closes with it (English, Hindi)."""
    if key_fingerprint:
        return (
            f"Unit signing key (SHA-256 fingerprint): {key_fingerprint}",
            f"इकाई की हस्ताक्षर कुंजी (SHA-256 फ़िंगरप्रिंट): {key_fingerprint}",
        )
    return (
        "Unit signing key: none configured — this package is not signed",
        "इकाई की हस्ताक्षर कुंजी: कॉन्फ़िगर नहीं — यह पैकेज हस्ताक्षरित नहीं है",
    )


def key_footer(key_fingerprint: str | None) -> str:
    """The one-line form for page footers (every page of a letter or referral names the key that seals it)."""
    if key_fingerprint:
        return f"Unit signing key / इकाई हस्ताक्षर कुंजी (SHA-256): {key_fingerprint}"
    return "Unit signing key / इकाई हस्ताक्षर कुंजी: none configured, not signed / कॉन्फ़िगर नहीं, हस्ताक्षरित नहीं"


@dataclass(frozen=True)
class Sealed:
    files: dict[str, str]  # part (its name under data/) → SHA-256
    manifest_sha256: str  # the SHA-256 of manifest-sha256.txt: what the store keeps and the signature covers
    key_fingerprint: str | None


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    """A file's digest, read in blocks (`hashlib.file_digest`)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def file_stem(reference: str) -> str:
    """A package's folder and part names from its reference: `TF/REF/2026/000001` → `TF-REF-2026-000001`."""
    return reference.replace("/", "-")


def part_path(folder: Path, reference: str, suffix: str) -> Path:
    """A sealed package's part by its suffix (`.pdf`, `-annex.xlsx`, …): parts lie in the bag's `data/`."""
    return folder / PAYLOAD / (file_stem(reference) + suffix)


def fresh_folder(folder: Path) -> Path:
    """A package folder that holds nothing yet: a sealed package is never overwritten or mixed with another."""
    refuse_occupied(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def refuse_occupied(folder: Path) -> None:
    """Refuse a package folder that already holds files (an empty one, or none at all, is fine)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TipfusionError(
            f"{folder} already holds files; a sealed package is never overwritten (remove the folder if it is "
            "left from a failed build, or choose another --output)"
        )


def bag_info(title: str, reference: str, organisation: str, bagging_date: str, synthetic: bool) -> dict[str, str]:
    """What the package is, in bag-info.txt's standard labels (and two of tipfusion's own)."""
    return {
        "Source-Organization": organisation,
        "External-Identifier": reference,
        "External-Description": f"{title} (metadata only; no media)",
        "Bagging-Date": bagging_date,
        "Bag-Software-Agent": f"tipfusion {__version__} with bagit.py {bagit.VERSION}",
        "Tipfusion-Synthetic-Data": "yes — generated for testing, not a real case" if synthetic else "no",
    }


def seal(folder: Path, info: dict[str, str], signer: Signer | None) -> Sealed:
    """Turn a folder of parts into a bag; sign its manifest when the unit has a key."""
    if signer is not None:
        info = {
            **info,
            "Signing-Key-Fingerprint": f"SHA-256 {signer.fingerprint}",
            "Signature-Check": OPENSSL_CHECK,
        }
    else:
        info = {**info, "Signing-Key-Fingerprint": "none (the unit had no signing key configured)"}
    bag = bagit.make_bag(str(folder), dict(info), checksums=["sha256"])
    manifest = folder / MANIFEST
    if signer is not None:
        (folder / SIGNATURE).write_bytes(signer.sign(manifest.read_bytes()))
        (folder / PUBLIC_KEY).write_bytes(signer.public_pem())
        bag.save()  # the tag manifest now lists the signature and the key too
    files = {_part(path): hashes["sha256"] for path, hashes in bag.payload_entries().items()}
    return Sealed(dict(sorted(files.items())), digest_of(manifest), signer.fingerprint if signer else None)


def _part(path: str) -> str:
    return Path(path).relative_to(PAYLOAD).as_posix()


@dataclass
class BagCheck:
    folder: Path
    manifest_sha256: str | None
    reference: str | None
    files: dict[str, str] = field(default_factory=dict)  # part → SHA-256 as the manifest lists it
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    signature: str = "absent"  # valid | invalid | absent
    signature_problem: str | None = None
    key_fingerprint: str | None = None

    @property
    def intact(self) -> bool:
        return not (self.altered or self.missing or self.unlisted)

    @property
    def ok(self) -> bool:
        return self.intact and self.signature != "invalid"


def verify_bag(folder: Path) -> BagCheck:
    """Every file against every manifest (payload and tag files), then the signature of manifest-sha256.txt."""
    if not (folder / "bagit.txt").is_file():
        raise FileNotFoundError(
            f"{folder}: no bagit.txt — not a tipfusion package (packages are BagIt bags: a data/ folder and {MANIFEST})"
        )
    try:
        bag = bagit.Bag(str(folder))
    except bagit.BagError as exc:
        raise IntegrityFailure(f"{folder}: the bag cannot be read: {exc}") from exc
    manifest = folder / MANIFEST
    reference = bag.info.get("External-Identifier")
    check = BagCheck(
        folder,
        digest_of(manifest) if manifest.is_file() else None,
        reference if isinstance(reference, str) else None,
    )
    _check_entries(folder, bag, check)
    _check_signature(folder, check)
    return check


def _check_entries(folder: Path, bag: bagit.Bag, check: BagCheck) -> None:
    for name, hashes in sorted(bag.entries.items()):
        target = folder / name
        shown = Path(name).as_posix()
        if "sha256" in hashes and shown.startswith(PAYLOAD + "/"):
            check.files[_part(name)] = hashes["sha256"]
        if not target.is_file():
            check.missing.append(shown)
        elif any(digest_of(target, alg) != value.lower() for alg, value in hashes.items()):
            check.altered.append(shown)
    _, only_on_disk = bag.compare_manifests_with_fs()
    check.unlisted = sorted(Path(p).as_posix() for p in only_on_disk)
    if list(bag.tagmanifest_files()):
        listed = {Path(p).as_posix() for p in bag.entries}
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            tag_file = path.is_file() and not relative.startswith((PAYLOAD + "/", TAG_MANIFEST_PREFIX))
            if tag_file and relative not in listed:
                check.unlisted.append(relative)


def _check_signature(folder: Path, check: BagCheck) -> None:
    signature = folder / SIGNATURE
    if not signature.is_file():
        return
    check.signature = "invalid"
    key_file = folder / PUBLIC_KEY
    key = public_from_pem(key_file.read_bytes()) if key_file.is_file() else None
    if key is None:
        check.signature_problem = f"{PUBLIC_KEY} is missing or not an Ed25519 public key"
        return
    check.key_fingerprint = fingerprint(key)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        check.signature_problem = f"{MANIFEST} is missing"
        return
    if signature_valid(key, manifest.read_bytes(), signature.read_bytes()):
        check.signature = "valid"
    else:
        check.signature_problem = f"the signature does not match {MANIFEST}"
