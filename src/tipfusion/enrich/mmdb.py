"""MaxMind-format databases the unit supplies (GeoLite2/GeoIP2 ASN, ISP, City, Country, Enterprise, or compatible),
read offline.

What a database holds is decided by its metadata `database_type`, never by its file name: an ASN database answers
the AS number and organisation; an ISP database the ISP, the organisation using the address, the AS and mobile
network codes; a City or Country database a location estimate; an Enterprise database all of these (under
`traits`) plus connection and user types.
"""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb

from tipfusion.errors import ConfigurationError

# what each kind of database can answer: asn, isp (ISP name, organisation, mobile codes), connection, location
HOLDS = {
    "asn": frozenset({"asn"}),
    "isp": frozenset({"asn", "isp"}),
    "enterprise": frozenset({"asn", "isp", "connection", "location"}),
    "city": frozenset({"location"}),
    "other": frozenset[str](),
}
PROBE_RECORDS = 1000  # decoded when a database is opened, to catch a corrupt data section before any look-up
# what a damaged file raises from the reader (the C extension and the pure-Python reader differ)
CORRUPT = (maxminddb.InvalidDatabaseError, ValueError, IndexError, KeyError, TypeError, struct.error)


@dataclass
class IpDatabase:
    path: Path
    reader: Any
    database_type: str
    kind: str  # asn | isp | enterprise | city | other
    version: str
    ip_version: int = 6

    @property
    def holds(self) -> frozenset[str]:
        return HOLDS[self.kind]

    def get(self, address: str) -> dict[str, Any] | None:
        """The record for `address`, or None; a record the file cannot decode is a configuration error naming it."""
        if self.ip_version == 4 and ipaddress.ip_address(address).version == 6:
            return None  # an IPv4-only database knows nothing of IPv6
        try:
            record = self.reader.get(address)
        except CORRUPT as exc:
            raise corrupt(self.path, "a record in its data section cannot be decoded") from exc
        return record if isinstance(record, dict) else None

    def close(self) -> None:
        self.reader.close()


def corrupt(path: Path, what: str) -> ConfigurationError:
    """One line a user can act on: which file, that it is damaged, what to do."""
    return ConfigurationError(
        f"{path}: not a valid MaxMind DB file, or a corrupt one ({what}); "
        "replace it with a fresh copy and run `tipfusion enrich` again"
    )


def kind_of(database_type: str) -> str:
    """What a database holds, from its type: e.g. GeoLite2-ASN, GeoIP2-ISP, GeoIP2-City, GeoIP2-Enterprise."""
    lowered = database_type.lower()
    if "enterprise" in lowered:
        return "enterprise"
    if "asn" in lowered:
        return "asn"
    if "isp" in lowered:
        return "isp"
    if "city" in lowered or "country" in lowered:
        return "city"
    return "other"


def open_database(path: Path) -> IpDatabase:
    """Open one .mmdb; a missing or corrupt file is a configuration error that names the file."""
    if not path.exists():
        raise ConfigurationError(f"{path}: IP database not found (set TIPFUSION_IP_DATABASES or --ip-database)")
    try:
        reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
    except CORRUPT as exc:
        raise corrupt(path, "it cannot be opened as one") from exc
    except OSError as exc:
        raise ConfigurationError(f"{path}: IP database cannot be read ({exc.strerror or exc})") from exc
    try:
        _probe(reader)
        meta = reader.metadata()
        database_type = str(meta.database_type)
        built = datetime.fromtimestamp(meta.build_epoch, UTC).strftime("%Y-%m-%d")
        ip_version = int(meta.ip_version)
    except CORRUPT as exc:
        reader.close()
        raise corrupt(path, "its first records cannot be decoded") from exc
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()[:12]
    version = f"{database_type}@{built}:{digest}"
    return IpDatabase(path, reader, database_type, kind_of(database_type), version, ip_version)


def _probe(reader: Any) -> None:
    """Decode the first records: a damaged data section shows here, at open time, rather than mid-run."""
    for count, _ in enumerate(reader, start=1):
        if count >= PROBE_RECORDS:
            return
