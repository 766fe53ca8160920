"""MaxMind-format databases the unit supplies (GeoLite2/GeoIP2 ASN and City, or compatible), read offline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb

from tipfusion.errors import ConfigurationError


@dataclass
class IpDatabase:
    path: Path
    reader: Any
    database_type: str
    kind: str  # asn | city | other
    version: str

    def get(self, address: str) -> dict[str, Any] | None:
        record = self.reader.get(address)
        return record if isinstance(record, dict) else None

    def close(self) -> None:
        self.reader.close()


def open_database(path: Path) -> IpDatabase:
    """Open one .mmdb; a missing or corrupt file is a configuration error that names the file."""
    if not path.exists():
        raise ConfigurationError(f"{path}: IP database not found (set TIPFUSION_IP_DATABASES or --ip-database)")
    try:
        reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
    except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
        raise ConfigurationError(f"{path}: not a readable MaxMind DB file ({exc})") from exc
    meta = reader.metadata()
    database_type = str(meta.database_type)
    lowered = database_type.lower()
    kind = "asn" if "asn" in lowered else "city" if ("city" in lowered or "country" in lowered) else "other"
    built = datetime.fromtimestamp(meta.build_epoch, UTC).strftime("%Y-%m-%d")
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()[:12]
    return IpDatabase(path, reader, database_type, kind, f"{database_type}@{built}:{digest}")
