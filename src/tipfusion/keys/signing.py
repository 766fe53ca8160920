"""The unit's Ed25519 key: one private key signs every package manifest and every audit checkpoint.

Stations and ISPs check a signature with common tools (`openssl pkeyutl -verify -rawin`), so the key is a plain
PEM pair and the signature is raw Ed25519 over the manifest's bytes. Whoever receives a package compares the
fingerprint printed in its letters with the one the unit published (`tipfusion keys show`): the public key inside
a package proves nothing until its fingerprint has been checked.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tipfusion.config import Settings
from tipfusion.errors import ConfigurationError
from tipfusion.private import FILE_MODE

PRIVATE_NAME = "signing-key.pem"
PUBLIC_SUFFIX = ".pub.pem"


@dataclass(frozen=True)
class Signer:
    """A loaded private key, with what every signed artefact records about it."""

    private_key: Ed25519PrivateKey
    path: Path
    fingerprint: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        """A raw 64-byte Ed25519 signature (what `openssl pkeyutl -sigfile` reads)."""
        return self.private_key.sign(data)

    def public_pem(self) -> bytes:
        return public_pem(self.public_key)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in groups of four hex digits, so two people can read it aloud."""
    digest = hashlib.sha256(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4)).upper()


def public_path(private: Path) -> Path:
    """Where the public half lives next to a private key: `unit.pem` → `unit.pub.pem`."""
    return private.with_name(private.name.removesuffix(".pem") + PUBLIC_SUFFIX)


def key_location(settings: Settings, out: Path | None) -> Path:
    """`--out DIR` names a folder; otherwise the configured key path; one of them is needed."""
    if out is not None:
        return out / PRIVATE_NAME
    if settings.signing_key:
        return Path(settings.signing_key)
    raise ConfigurationError(
        "say where the key goes: `tipfusion keys create --out DIR`, or set TIPFUSION_SIGNING_KEY "
        "(or signing_key in the TOML file) to the private key's path"
    )


def create_key(private: Path) -> Signer:
    """Write a new key pair; never overwrite one (a lost or replaced key orphans every signature made with it)."""
    public = public_path(private)
    for existing in (private, public):
        if existing.exists():
            raise ConfigurationError(f"{existing} already exists; a signing key is never overwritten")
    private.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # O_EXCL: a key appearing between the check and the write is not overwritten either; 0600 from the start
    descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    os.chmod(private, FILE_MODE)  # whatever the umask left
    public.write_bytes(public_pem(key.public_key()))
    return Signer(key, private, fingerprint(key.public_key()))


def read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"signing key {path} does not exist (create it with `tipfusion keys create`, or unset "
            "TIPFUSION_SIGNING_KEY)"
        ) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"signing key {path}: cannot be read as an unencrypted PEM private key ({exc})"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"signing key {path}: not an Ed25519 key ({type(key).__name__})")
    return key


def load_signer(settings: Settings) -> Signer | None:
    """The configured key, or None when the unit has none (packages and checkpoints then go unsigned)."""
    if not settings.signing_key:
        return None
    path = Path(settings.signing_key)
    key = read_private(path)
    return Signer(key, path, fingerprint(key.public_key()))


def read_public(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file holding either half (a station has the public one, the unit the private)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    key: object
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{path}: not a PEM public or unencrypted private key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path}: not an Ed25519 key ({type(key).__name__})")
    return key


def public_from_pem(data: bytes) -> Ed25519PublicKey | None:
    """A public key from PEM bytes found in a package; None when they are not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def signature_valid(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
