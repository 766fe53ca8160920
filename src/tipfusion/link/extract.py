"""Store → evidence keys. The only linking code that touches the database; everything after it is pure.

What counts as identity evidence about a report's reported person: the values on the reported account (and
accounts associated with it) and on the files it uploaded. IP addresses count only where they attribute a
person (enrichment decides): a fixed-line address, an IPv6 /64, or a carrier-grade-NAT address together with its
source port and exact second. Everything else about IPs is suppressed with the reason.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict

from sqlalchemy import Connection

from tipfusion.domain import SUSPECT_ROLES
from tipfusion.enrich.hashlists.service import known_content
from tipfusion.link.records import LinkInput, Suppressed
from tipfusion.normalise.kind import ACCOUNT, ADDRESS, FILE, GROUP, IDENTITY
from tipfusion.normalise.registry import KINDS
from tipfusion.store.bulk import rows_of

LINKS = {name: kind.links for name, kind in KINDS.items() if kind.links is not None}
VIRAL_ANNOTATIONS = {"viral", "potentialMeme"}
IP_NOT_ATTRIBUTABLE = {
    "mobile_cgnat": "carrier-grade NAT address without source port and exact time: shared by many subscribers",
    "hosting_vpn": "hosting/VPN/relay address: says nothing about a household",
    "private": "private address",
    "reserved": "reserved address",
    "unknown": "no ISP known for this address",
    None: "not enriched yet (run tipfusion enrich)",
}


def ip_key(ip: str, network_type: str | None, port: int | None, observed_at: object) -> tuple[str, str] | None:
    """The identity key an IP sighting contributes, or None when it attributes no one."""
    if network_type in {"fixed", "mobile"}:
        if ":" in ip:
            return "ip_v6_prefix", str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return ("ip_fixed", ip) if network_type == "fixed" else None
    if network_type == "mobile_cgnat" and port is not None and observed_at is not None:
        return "ip_cgnat_port", f"{ip}:{port}@{observed_at}"
    return None


def load_input(conn: Connection) -> LinkInput:
    current = dict(rows_of(conn, "SELECT report_id, current_version FROM reports"))
    data = LinkInput(reports=sorted(current), identity=[])
    for report in data.reports:
        data.identity.append((report, "prior_report", str(report)))  # later reports that cite it find it

    sql = "SELECT report_id, first_name, last_name FROM current_accounts WHERE role = 'reported'"
    for report, first_name, last_name in rows_of(conn, sql):
        if first_name and last_name:
            data.names.setdefault(report, set()).add((first_name.casefold(), last_name.casefold()))

    network_types = dict(rows_of(conn, "SELECT ip, network_type FROM ip_enrichments"))
    ip_suppressed: dict[tuple[str, str], set[int]] = defaultdict(set)
    file_hashes: dict[tuple[int, int], list[str]] = defaultdict(list)
    # straight to the driver: this loop sees every current sighting (≈13 per report), so per-row overhead counts
    sql = (
        "SELECT o.report_id, o.account_ordinal, o.file_ordinal, o.kind, o.canonical, o.valid, o.port, "
        "o.observed_at, o.origin, o.verified, o.role FROM identifier_observations o "
        "WHERE o.is_current AND o.kind IN (" + ", ".join(f"'{name}'" for name in sorted(LINKS)) + ")"
    )
    for (
        report,
        account,
        file,
        kind,
        canonical,
        valid,
        port,
        observed_at,
        origin,
        verified,
        role,
    ) in rows_of(conn, sql):
        # only the reported side (reported person, accounts associated with them, their uploads) says who the
        # suspect is; a recipient's account is network evidence; a victim's values are never evidence about anyone
        links = LINKS[kind]
        if links.how == GROUP:
            if role in SUSPECT_ROLES or role == "incident":
                data.groups.append((report, canonical))
            continue
        if links.how == FILE:
            if file is not None and valid:
                file_hashes[(report, file)].append(canonical)
            continue
        if links.how == ACCOUNT and role == "recipient":
            data.recipients.append((report, canonical))
            continue
        if origin != "field" or not valid or role not in SUSPECT_ROLES:
            continue
        if links.how == ADDRESS:
            network_type = network_types.get(canonical)
            found = ip_key(canonical, network_type, port, observed_at)
            if found is None:
                ip_suppressed[(canonical, IP_NOT_ATTRIBUTABLE.get(network_type, "not attributable"))].add(report)
            else:
                data.identity.append((report, *found))
                if found[0] == "ip_fixed" and observed_at is not None:
                    data.colocations.append((report, f"{canonical}@{str(observed_at)[:10]}"))
        elif links.accounts_only:
            if account is not None:  # profile URLs, not content URLs
                data.identity.append((report, *links.key(kind, canonical)))
        elif links.how in (IDENTITY, ACCOUNT):
            evidence = links.key(kind, canonical)
            data.identity.append((report, *evidence))
            if verified:
                data.verified.add((report, *evidence))
    data.suppressed.extend(
        Suppressed("ip", ip, len(held), reason) for (ip, reason), held in ip_suppressed.items() if len(held) > 1
    )

    batched = {
        report
        for (report,) in rows_of(conn, "SELECT report_id FROM current_report_versions WHERE batched_reason IS NOT NULL")
    }
    flagged: set[tuple[int, int]] = set()
    for report, ordinal, flags, potential_meme in rows_of(
        conn, "SELECT report_id, ordinal, annotations, potential_meme FROM current_files"
    ):
        if isinstance(flags, str):  # SQLite hands JSON back as text
            flags = json.loads(flags)
        if report in batched or potential_meme or VIRAL_ANNOTATIONS & set(flags or ()):
            flagged.add((report, ordinal))
    for (report, ordinal), hashes in file_hashes.items():
        data.files.append((report, min(hashes), (report, ordinal) in flagged))
    # a file on one of the unit's known-content hash lists circulates: it says nothing about who belongs together
    for (report, ordinal), why in known_content(conn).items():
        if (report, ordinal) in file_hashes:
            data.known_files.setdefault(min(file_hashes[(report, ordinal)]), why)

    # a lead names a value as the kind it was listed as: it meets the reports' values under the same key
    for lead_ref, listed, value in rows_of(conn, "SELECT lead_ref, kind, canonical FROM lead_identifiers"):
        how = LINKS.get(listed)
        data.leads.append((lead_ref, *(how.key(listed, value) if how else (listed, value))))
    # what an ISP said about the subscriber behind a report's address: strong identity evidence
    for report, phone, alternate, email, id_type, id_number in rows_of(
        conn, "SELECT report_id, phone, alternate_phone, email, id_document_type, id_document_number FROM isp_answers"
    ):
        if report not in current:
            continue
        for value in (phone, alternate):
            if value:
                data.identity.append((report, "phone", value))
                data.verified.add((report, "phone", value))
        if email:
            data.identity.append((report, "email", email))
        if id_number:
            key = f"{(id_type or 'ID').strip().upper()}:{''.join(str(id_number).split()).upper()}"
            data.identity.append((report, "subscriber_id", key))
    return data
