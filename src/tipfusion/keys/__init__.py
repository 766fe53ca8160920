"""The unit's signing key: create it, show its fingerprint, export its public half, sign and check with it."""

from tipfusion.keys.signing import (
    Signer,
    create_key,
    fingerprint,
    key_location,
    load_signer,
    public_from_pem,
    public_path,
    public_pem,
    read_public,
    signature_valid,
)

__all__ = [
    "Signer",
    "create_key",
    "fingerprint",
    "key_location",
    "load_signer",
    "public_from_pem",
    "public_path",
    "public_pem",
    "read_public",
    "signature_valid",
]
