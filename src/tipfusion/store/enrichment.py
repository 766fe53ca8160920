"""Set-based statements of the enrich stage: the store's IP sightings joined to the enrichment table in SQL.

Identifiability used to be computed in Python for sightings fetched by `IN (…)` lists of 500 addresses; at 250,000
reports on PostgreSQL that pass took most of enrich's 649.5 s. Here it is one `UPDATE … FROM` per slice of the
address space, the rule of `tipfusion.enrich.identify.identifiability` written as a `CASE` (a test holds the two
equal over every combination of their inputs).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, literal, select, true, update

from tipfusion.store.tables import identifier_observations, ip_enrichments

SLICE = 50_000  # enriched addresses per UPDATE: a transaction's size, whatever the store's


def ip_slices(conn: Connection, size: int | None = None) -> list[str]:
    """The first address of every `size` (default SLICE) enriched addresses, in the database's order: slice k is
    [b_k, b_k+1), the last one open-ended, so the slices cover every address once whatever the collation."""
    size = size or SLICE
    numbered = select(ip_enrichments.c.ip, func.row_number().over(order_by=ip_enrichments.c.ip).label("n")).subquery()
    query = select(numbered.c.ip).where((numbered.c.n - 1) % size == 0).order_by(numbered.c.ip)
    return list(conn.execute(query).scalars())


def _has_flag(conn: Connection, flags: ColumnElement[Any], flag: str) -> ColumnElement[bool]:
    """`flag in flags.split(",")`, exactly (no LIKE: `_` is a wildcard and SQLite's LIKE ignores case)."""
    padded = literal(",") + flags + literal(",")
    where = func.strpos if conn.dialect.name == "postgresql" else func.instr
    return where(padded, f",{flag},") > 0


def identifiability_cases(conn: Connection) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """(identifiable, reason code) of a sighting joined to its address's answer, as SQL: the same rules in the same
    order as `identifiability`."""
    o, e = identifier_observations, ip_enrichments
    cgnat_v4 = and_(e.c.network_type == "mobile_cgnat", e.c.ip_version == 4)
    rules: list[tuple[ColumnElement[bool], bool, str]] = [
        (e.c.network_type.in_(("private", "reserved")), False, "not_routable"),
        (e.c.network_type == "hosting_vpn", False, "hosting_vpn"),
        (e.c.network_type == "unknown", False, "unknown_isp"),
        (o.c.observed_at.is_(None), False, "no_time"),
        (_has_flag(conn, o.c.flags, "no_timezone"), False, "no_zone"),
        (and_(cgnat_v4, o.c.port.is_not(None)), True, "cgnat_port_time"),
        (cgnat_v4, False, "cgnat_no_port"),
        (e.c.ip_version == 6, True, "ipv6_time"),
    ]
    ok = case(*((when, true() if yes else false()) for when, yes, _ in rules), else_=true())
    why = case(*((when, literal(code)) for when, _, code in rules), else_=literal("ip_time"))
    return ok, why


def assess_ip_sightings(conn: Connection, first: str, end: str | None) -> tuple[int, int]:
    """Identifiability of the not yet assessed sightings of the enriched addresses in [first, end) (end None: no
    bound), in one statement. (sightings assessed, of them identifiable)."""
    o, e = identifier_observations, ip_enrichments
    ok, why = identifiability_cases(conn)
    bounds = [o.c.canonical >= first, e.c.ip >= first]
    if end is not None:
        bounds += [o.c.canonical < end, e.c.ip < end]
    statement = (
        update(o)
        .where(o.c.kind == "ip", o.c.canonical == e.c.ip, o.c.identifiable.is_(None), *bounds)
        .values(identifiable=ok, identifiability_note=why)
        .returning(o.c.identifiable)
    )
    assessed = identifiable = 0
    for (value,) in conn.execute(statement):
        assessed += 1
        identifiable += bool(value)
    return assessed, identifiable
