"""Store → evidence keys. The only linking code that touches the database; everything after it is pure.

What counts as identity evidence about a report's reported person: the values on the reported account (and
accounts associated with it) and on the files it uploaded. IP addresses count only where they attribute a
person (enrichment decides): a fixed-line address, an IPv6 /64, or a carrier-grade-NAT address together with its
source port and exact second. Everything else about IPs is suppressed with the reason.

The rules that sort a row (`sort_sightings`, `file_flagged`, `lead_evidence`, `isp_evidence`) are plain functions
of the rows the queries in `store.link_inputs` return: the Spark engine runs the same functions on its executors.
The embedded engine lets the database sort the sightings instead (`store.link_inputs.SORTED_SIGHTINGS`: each
kind's rule written in SQL, in one pass), reads them as Arrow columns, and applies `address_evidence` over whole
columns (`link.sightings.address_columns`), where an address's key needs its enrichment. Tests hold each way equal to
the rules here, row for row, on both databases.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from tipfusion.domain import SUSPECT_ROLES
from tipfusion.enrich.hashlists.service import known_content
from tipfusion.link import sightings
from tipfusion.link.columns import IdentityRows
from tipfusion.link.people import load_people
from tipfusion.link.records import LinkInput, Suppressed
from tipfusion.memory import give_back_memory
from tipfusion.normalise.kind import ACCOUNT, ADDRESS, FILE, GROUP, IDENTITY
from tipfusion.normalise.registry import KINDS
from tipfusion.store import link_inputs as inputs

LINKS = {name: kind.links for name, kind in KINDS.items() if kind.links is not None}
PRIOR_REPORT = "prior_report"
VIRAL_ANNOTATIONS = {"viral", "potentialMeme"}
IP_NOT_ATTRIBUTABLE = {
    "mobile_cgnat": "carrier-grade NAT address without source port and exact time: shared by many subscribers",
    "hosting_vpn": "hosting/VPN/relay address: says nothing about a household",
    "private": "private address",
    "reserved": "reserved address",
    "unknown": "no ISP known for this address",
    None: "not enriched yet (run tipfusion enrich)",
}

# what sort_sightings yields: (tag, report, a, b)
IDENTITY_KEY = "identity"  # (kind, key) about the reported person
VERIFIED_KEY = "verified"  # (kind, key) the ESP verified
GROUP_KEY = "group"  # (group key, None)
FILE_HASH = "file"  # (file ordinal, hash)
RECIPIENT = "recipient"  # (recipient's account key, None)
UNATTRIBUTED_IP = "unattributed"  # (ip, reason)
COLOCATION = "colocation"  # (fixed ip @ day, None)


def moment(value: object) -> str:
    """One text for a sighting's time whatever the database handed back (SQLite: UTC text; PostgreSQL: an aware
    datetime in the session's zone; Spark: an aware UTC datetime), so keys built from it match across engines."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(" ")


def ip_key(ip: str, network_type: str | None, port: int | None, observed_at: object) -> tuple[str, str] | None:
    """The identity key an IP sighting contributes, or None when it attributes no one."""
    if network_type in {"fixed", "mobile"}:
        if ":" in ip:
            return "ip_v6_prefix", str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return ("ip_fixed", ip) if network_type == "fixed" else None
    if network_type == "mobile_cgnat" and port is not None and observed_at is not None:
        return "ip_cgnat_port", f"{ip}:{port}@{moment(observed_at)}"
    return None


def sort_sightings(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[str, int, Any, Any]]:
    """Each current sighting (a `inputs.SIGHTINGS` row followed by its IP's network type) → what it is evidence of.

    Only the reported side (reported person, accounts associated with them, their uploads) says who the suspect is;
    a recipient's account is network evidence; a victim's values are never evidence about anyone."""
    for report, account, file, kind, canonical, valid, port, observed_at, origin, verified, role, network in rows:
        links = LINKS[kind]
        if links.how == GROUP:
            if role in SUSPECT_ROLES or role == "incident":
                yield GROUP_KEY, report, canonical, None
            continue
        if links.how == FILE:
            if file is not None and valid:
                yield FILE_HASH, report, file, canonical
            continue
        if links.how == ACCOUNT and role == "recipient":
            yield RECIPIENT, report, canonical, None
            continue
        if origin != "field" or not valid or role not in SUSPECT_ROLES:
            continue
        if links.how == ADDRESS:
            yield from address_evidence(report, canonical, network, port, observed_at)
        elif links.accounts_only:
            if account is not None:  # profile URLs, not content URLs
                yield IDENTITY_KEY, report, *links.key(kind, canonical)
        elif links.how in (IDENTITY, ACCOUNT):
            evidence = links.key(kind, canonical)
            yield IDENTITY_KEY, report, *evidence
            if verified:
                yield VERIFIED_KEY, report, *evidence


def address_evidence(
    report: int, ip: str, network: str | None, port: int | None, observed_at: object
) -> Iterator[tuple[str, int, Any, Any]]:
    """What a reported person's address is evidence of: an identity key where it attributes a subscriber (and, for a
    fixed line, the line on that day), or why it attributes no one."""
    found = ip_key(ip, network, port, observed_at)
    if found is None:
        yield UNATTRIBUTED_IP, report, ip, IP_NOT_ATTRIBUTABLE.get(network, "not attributable")
    else:
        yield IDENTITY_KEY, report, *found
        if found[0] == "ip_fixed" and observed_at is not None:
            yield COLOCATION, report, f"{ip}@{moment(observed_at)[:10]}", None


def unattributed(ip: str, reason: str, reports: int) -> Suppressed:
    return Suppressed("ip", ip, reports, reason)


def file_flagged(flags: Any, potential_meme: bool | None, batched: bool) -> bool:
    """A file the ESP marked viral or a meme, or one in a batched (mass-distribution) report: it links nobody."""
    if isinstance(flags, str):  # SQLite and JDBC hand JSON back as text
        flags = json.loads(flags)
    return bool(batched or potential_meme or VIRAL_ANNOTATIONS & set(flags or ()))


def flagged_files(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
    """The files `file_flagged` flags (reports, ordinals). Most files are in no batched report and have no flag or
    annotation, where the rule says no without being asked: the database leaves them out (`inputs.FLAGGABLE_FILES`),
    and the rule is asked of the rest."""
    batched = np.array([report for (report,) in inputs.rows(conn, inputs.BATCHED)], dtype=np.int64)
    reports, ordinals = [], []
    for batch in inputs.batches(conn, inputs.FLAGGABLE_FILES, inputs.FLAGGABLE_FILES.columns):
        report = batch["report_id"].to_numpy(zero_copy_only=False)
        in_batched = np.isin(report, batched)
        meme = batch["potential_meme"].fill_null(False).to_numpy(zero_copy_only=False)
        notes = batch["annotations"]  # JSON text: an empty list says nothing
        noted = pc.and_(pc.is_valid(notes), pc.invert(pc.is_in(notes, pa.array(["[]", "null"])))).to_numpy(
            zero_copy_only=False
        )
        asked = np.flatnonzero(in_batched | meme | noted)
        flags = notes.take(pa.array(asked)).to_pylist()
        ordinal = batch["ordinal"].to_numpy(zero_copy_only=False)
        said = [file_flagged(f, bool(meme[i]), bool(in_batched[i])) for f, i in zip(flags, asked.tolist(), strict=True)]
        chosen = asked[np.array(said, dtype=bool)] if said else asked
        reports.append(report[chosen])
        ordinals.append(ordinal[chosen])
    if not reports:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(reports).astype(np.int64), np.concatenate(ordinals).astype(np.int64)


def lead_evidence(listed: str, value: str) -> tuple[str, str]:
    """A lead names a value as the kind it was listed as: it meets the reports' values under the same key."""
    how = LINKS.get(listed)
    return how.key(listed, value) if how else (listed, value)


def isp_evidence(
    phone: str | None, alternate: str | None, email: str | None, id_type: str | None, id_number: object
) -> Iterator[tuple[str, str, str]]:
    """What an ISP said about the subscriber behind a report's address: strong identity evidence, (tag, kind, key)."""
    for value in (phone, alternate):
        if value:
            yield IDENTITY_KEY, "phone", value
            yield VERIFIED_KEY, "phone", value
    if email:
        yield IDENTITY_KEY, "email", email
    if id_number:
        yield IDENTITY_KEY, "subscriber_id", subscriber_key(id_type, id_number)


def subscriber_key(id_type: str | None, id_number: object) -> str:
    """The key an ID document an ISP named a subscriber by links under: `TYPE:NUMBER`, spaces out, upper case."""
    return f"{(id_type or 'ID').strip().upper()}:{''.join(str(id_number).split()).upper()}"


def load_input(conn: Connection) -> LinkInput:
    current = dict(inputs.rows(conn, inputs.REPORTS))
    data = LinkInput(reports=sorted(current), identity=IdentityRows())

    # every sighting (≈13 per report) is sorted by the database, each kind's rule (`sort_sightings`) written in SQL,
    # in one pass (`inputs.SORTED_SIGHTINGS`), and read as columns: what is left of the rules (an address's key needs
    # its enrichment) runs over whole columns (`link.sightings`), not a Python step per row. Where child processes
    # read them (a large SQLite store), they start first and read while this one reads the names and the files
    read = inputs.batches(conn, inputs.SORTED_SIGHTINGS, inputs.SORTED_SIGHTING_COLUMNS)
    try:
        load_people(inputs.batches(conn, inputs.NAMES, inputs.NAMES.columns), data)
        flagged = flagged_files(conn)
        network_types = dict(inputs.rows(conn, inputs.NETWORK_TYPES))
        files = sightings.load_sightings(read, network_types, data)
    finally:
        read.close()  # a read left (a failure above): its children are stopped
    del network_types

    data.files = files.rows(*flagged)
    # a file on one of the unit's known-content hash lists circulates: it says nothing about who belongs together
    if known := known_content(conn):
        key_of = files.key_of()
        for (report, ordinal), why in known.items():
            if (report, ordinal) in key_of:
                data.known_files.setdefault(key_of[(report, ordinal)], why)
    del files
    # Arrow's allocator keeps what the columns used for its next allocation; linking allocates Python objects and
    # NumPy arrays from here on, which cannot use it: give it back
    pa.default_memory_pool().release_unused()

    for lead_ref, listed, value in inputs.rows(conn, inputs.LEADS):
        data.leads.append((lead_ref, *lead_evidence(listed, value)))
    for report, *answer in inputs.rows(conn, inputs.ISP_ANSWERS):
        if report not in current:
            continue
        for tag, kind, key in isp_evidence(*answer):
            (data.identity if tag == IDENTITY_KEY else data.verified).append((report, kind, key))
    # every report is a value of its own number, which later reports that cite it meet: held only where one does
    # (or a lead lists): a value nothing else holds is evidence of nothing, and it was a quarter of all distinct values
    cited = {key for _, kind, key in data.leads if kind == PRIOR_REPORT} | set(data.identity.keys_of(PRIOR_REPORT))
    numbers = {int(key) for key in cited if key.isascii() and key.isdigit() and str(int(key)) == key}
    data.identity.extend((report, PRIOR_REPORT, str(report)) for report in sorted(numbers & current.keys()))
    give_back_memory()
    return data
