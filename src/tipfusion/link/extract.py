"""Store → evidence keys. The only linking code that touches the database; everything after it is pure.

What counts as identity evidence about a report's reported person: the values on the reported account (and
accounts associated with it) and on the files it uploaded. IP addresses count only where they attribute a
person (enrichment decides): a fixed-line address, an IPv6 /64, or a carrier-grade-NAT address together with its
source port and exact second. Everything else about IPs is suppressed with the reason.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from sqlalchemy import Connection, and_, select

from tipfusion.link.records import LinkInput, Suppressed
from tipfusion.store.tables import (
    accounts,
    files,
    identifier_observations,
    ip_enrichments,
    lead_identifiers,
    report_versions,
    reports,
)

IDENTITY_KINDS = {"esp_user", "email", "phone", "device", "screen_name", "prior_report"}
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
        address = ipaddress.ip_address(ip)
        if address.version == 6:
            return "ip_v6_prefix", str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return ("ip_fixed", ip) if network_type == "fixed" else None
    if network_type == "mobile_cgnat" and port is not None and observed_at is not None:
        return "ip_cgnat_port", f"{ip}:{port}@{observed_at}"
    return None


def load_input(conn: Connection) -> LinkInput:
    current = {
        row.report_id: row.current_version
        for row in conn.execute(select(reports.c.report_id, reports.c.current_version))
    }
    data = LinkInput(reports=sorted(current), identity=[])
    for report in data.reports:
        data.identity.append((report, "prior_report", str(report)))  # later reports that cite it find it

    a = accounts
    roles: dict[tuple[int, int], tuple[str, int | None]] = {}
    for row in conn.execute(
        select(a.c.report_id, a.c.version, a.c.ordinal, a.c.role, a.c.parent_ordinal, a.c.first_name, a.c.last_name)
    ):
        if current.get(row.report_id) != row.version:
            continue
        roles[(row.report_id, row.ordinal)] = (row.role, row.parent_ordinal)
        if row.role == "reported" and row.first_name and row.last_name:
            data.names.setdefault(row.report_id, set()).add((row.first_name.casefold(), row.last_name.casefold()))

    def reported_side(report: int, ordinal: int | None) -> bool:
        role = roles.get((report, ordinal)) if ordinal is not None else None
        if role is None:
            return False
        if role[0] == "reported":
            return True
        parent = roles.get((report, role[1])) if role[1] is not None else None
        return role[0] == "associated" and parent is not None and parent[0] == "reported"

    o, e = identifier_observations, ip_enrichments
    ip_suppressed: dict[tuple[str, str], set[int]] = defaultdict(set)
    file_hashes: dict[tuple[int, int], list[str]] = defaultdict(list)
    query = (
        select(
            o.c.report_id,
            o.c.account_ordinal,
            o.c.file_ordinal,
            o.c.kind,
            o.c.canonical,
            o.c.valid,
            o.c.port,
            o.c.observed_at,
            o.c.origin,
            o.c.verified,
            e.c.network_type,
        )
        .select_from(o.outerjoin(e, and_(o.c.kind == "ip", e.c.ip == o.c.canonical)))
        .where(o.c.is_current.is_(True))
    )
    for obs in conn.execute(query.execution_options(yield_per=50_000)):
        report, kind = obs.report_id, obs.kind
        if kind in {"group", "chat_room"}:
            data.groups.append((report, obs.canonical))
            continue
        if kind == "file_hash":
            if obs.file_ordinal is not None and obs.valid:
                file_hashes[(report, obs.file_ordinal)].append(obs.canonical)
            continue
        if (
            kind == "esp_user"
            and obs.account_ordinal is not None
            and roles.get((report, obs.account_ordinal), ("",))[0] == "recipient"
        ):
            data.recipients.append((report, obs.canonical))
            continue
        if obs.origin != "field" or not obs.valid:
            continue
        about_reported = obs.file_ordinal is not None or reported_side(report, obs.account_ordinal)
        if not about_reported:
            continue
        if kind == "ip":
            found = ip_key(obs.canonical, obs.network_type, obs.port, obs.observed_at)
            if found is None:
                ip_suppressed[(obs.canonical, IP_NOT_ATTRIBUTABLE.get(obs.network_type, "not attributable"))].add(
                    report
                )
            else:
                data.identity.append((report, *found))
                if found[0] == "ip_fixed" and obs.observed_at is not None:
                    data.colocations.append((report, f"{obs.canonical}@{obs.observed_at.date().isoformat()}"))
        elif kind == "url":
            if obs.account_ordinal is not None:  # profile URLs, not content URLs
                data.identity.append((report, "url", obs.canonical))
        elif kind in IDENTITY_KINDS:
            data.identity.append((report, kind, obs.canonical))
            if obs.verified:
                data.verified.add((report, kind, obs.canonical))
    data.suppressed.extend(
        Suppressed("ip", ip, len(held), reason) for (ip, reason), held in ip_suppressed.items() if len(held) > 1
    )

    batched = {
        row.report_id
        for row in conn.execute(
            select(report_versions.c.report_id, report_versions.c.version).where(
                report_versions.c.batched_reason.is_not(None)
            )
        )
        if current.get(row.report_id) == row.version
    }
    flagged: set[tuple[int, int]] = set()
    for file in conn.execute(
        select(files.c.report_id, files.c.version, files.c.ordinal, files.c.annotations, files.c.potential_meme)
    ):
        if current.get(file.report_id) != file.version:
            continue
        if file.report_id in batched or file.potential_meme or VIRAL_ANNOTATIONS & set(file.annotations or ()):
            flagged.add((file.report_id, file.ordinal))
    for (report, ordinal), hashes in file_hashes.items():
        data.files.append((report, min(hashes), (report, ordinal) in flagged))

    for lead in conn.execute(
        select(lead_identifiers.c.lead_ref, lead_identifiers.c.kind, lead_identifiers.c.canonical)
    ):
        data.leads.append((lead.lead_ref, lead.kind, lead.canonical))
    return data
