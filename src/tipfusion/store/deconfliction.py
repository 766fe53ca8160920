"""Routing's deconfliction reads: which suspects hold a value of the kinds it cross-checks, grouped in the database.

Deconfliction used to reload the whole link input (`link.extract.load_input`: every sighting sorted in Python, names,
files, verified values) only to keep the identity keys of a few kinds; at 20,000 reports that was 5.1 of route's
6.8 s on SQLite (`benchmarks/RESULTS-route.md`).
Here the same keys are written in SQL, and the database groups them: one statement returns the values held by
2..N distinct suspects with their holders, and the values a lead list or an open case names are looked up by
index (`chunked` IN lists on `ix_observations_lookup`).

The keys are link's identity keys (`link.extract.sort_sightings` and `isp_evidence`), restricted to what
deconfliction can check:
- a current sighting of an IDENTITY or ACCOUNT kind, under the rule `store.link_inputs.identity_sightings` writes
  once for linking and for this: received in a field, valid, on the reported side (the reported
  person or an account associated with them: never a recipient's, a victim's or a reporter's value), on an account
  where the kind says only an account's value counts (a profile URL), under its evidence key (`Links.same_as`: a
  SIM's ICCID is the device `ICCID:<digits>`);
- an ISP's answer for a report: the subscriber's phone, alternate phone and e-mail (the ID document it names, a
  `subscriber_id`, is keyed in Python by `link.extract.subscriber_key`: `subscriber_documents` returns it raw).
- every report, under `prior_report` and its number (so a later report citing it finds it).
IP keys (`ip_fixed`, …) are link keys too, but not ones deconfliction checks (`DECONFLICTABLE`): they are built in
Python from the address's enrichment, port and exact time.
A test holds these reads equal to the old computation over `load_input`, on both databases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, String, cast, func, literal, select, union

from tipfusion.store.current import chunked
from tipfusion.store.link_inputs import SIGHTING_KEYS, identity_sightings
from tipfusion.store.tables import identifier_observations, isp_answers, report_links, reports

ISP_KEYS = (("phone", "phone"), ("alternate_phone", "phone"), ("email", "email"))  # isp_answers column → key kind
SUBSCRIBER_ID = "subscriber_id"
PRIOR_REPORT = "prior_report"  # every report is a value of its own number (`link.extract.load_input`)
# what `RoutingSettings.deconflict_kinds` may name: the keys above, and the stored kinds that link as another's (a
# kind counts by its key: `iccid` names nothing `device` does not, as before; the registry marks both)
KEY_KINDS = {k for k, _ in SIGHTING_KEYS.values()} | {k for _, k in ISP_KEYS} | {SUBSCRIBER_ID, PRIOR_REPORT}
DECONFLICTABLE = frozenset(KEY_KINDS | set(SIGHTING_KEYS))


@dataclass(frozen=True, slots=True)
class Holding:
    """One suspect holding one value: (evidence key kind, value as linking compares it, suspect)."""

    kind: str
    key: str
    suspect: str


@dataclass(frozen=True, slots=True)
class SubscriberDocument:
    """An ID document an ISP named the subscriber of a linked report's address by, as it answered."""

    suspect: str
    id_type: str | None
    id_number: str | None


def _sources(kinds: Iterable[str]) -> list[str]:
    wanted = set(kinds)
    return sorted(name for name, (kind, _) in SIGHTING_KEYS.items() if kind in wanted)


def _sightings(stored: Sequence[str]) -> Select[Any]:
    """(key kind, key, suspect) of the reported side's current field sightings of the `stored` kinds."""
    o, link = identifier_observations, report_links
    kind, key, condition = identity_sightings(stored)
    return (
        select(kind.label("kind"), key.label("key"), link.c.suspect_id.label("suspect"))
        .select_from(o.join(link, link.c.report_id == o.c.report_id))
        .where(condition)
    )


def _answers(column: str, kind: str) -> Select[Any]:
    """(key kind, key, suspect) of one value column of the ISP answers of linked reports."""
    a, link = isp_answers, report_links
    value = a.c[column]
    return (
        select(literal(kind, String).label("kind"), value.label("key"), link.c.suspect_id.label("suspect"))
        .select_from(
            a.join(link, link.c.report_id == a.c.report_id).join(reports, reports.c.report_id == a.c.report_id)
        )
        .where(value.is_not(None), value != "")
    )


def _reports() -> Select[Any]:
    """(prior_report, report number, suspect) of every linked report."""
    link = report_links
    return select(
        literal(PRIOR_REPORT, String).label("kind"),
        cast(link.c.report_id, String).label("key"),
        link.c.suspect_id.label("suspect"),
    ).select_from(link.join(reports, reports.c.report_id == link.c.report_id))


def _held(kinds: Iterable[str]) -> list[Select[Any]]:
    wanted = set(kinds)
    parts = [_sightings(stored)] if (stored := _sources(wanted)) else []
    parts += [_reports()] if PRIOR_REPORT in wanted else []
    return parts + [_answers(column, kind) for column, kind in ISP_KEYS if kind in wanted]


def shared_values(conn: Connection, kinds: Iterable[str], max_holders: int) -> list[Holding]:
    """The holders of every value of `kinds` that 2..`max_holders` distinct suspects hold (subscriber IDs aside:
    `subscriber_documents`), counted and filtered in the database."""
    parts = _held(kinds)
    if not parts:
        return []
    # one row per (value, suspect), so a count is of distinct suspects (a UNION of one part is no UNION: DISTINCT)
    held = (union(*parts) if len(parts) > 1 else parts[0].distinct()).subquery("held")
    counted = select(
        held.c.kind,
        held.c.key,
        held.c.suspect,
        func.count().over(partition_by=(held.c.kind, held.c.key)).label("holders"),
    ).subquery("counted")
    query = select(counted.c.kind, counted.c.key, counted.c.suspect).where(counted.c.holders.between(2, max_holders))
    return [Holding(kind, key, suspect) for kind, key, suspect in conn.execute(query)]


def holders_of(conn: Connection, values: Iterable[tuple[str, str]]) -> list[Holding]:
    """Every suspect holding one of `values` ((key kind, key) pairs; subscriber IDs aside), however many hold it:
    looked up by (kind, canonical), `chunked`."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, key in values:
        wanted[kind].add(key)
    found: set[Holding] = set()
    o = identifier_observations
    for name, (kind, prefix) in SIGHTING_KEYS.items():
        canonicals = {key[len(prefix) :] for key in wanted.get(kind, ()) if key.startswith(prefix)}
        for part in chunked(canonicals):
            query = _sightings([name]).where(o.c.canonical.in_(part))
            found.update(Holding(*row) for row in conn.execute(query))
    numbers = {key for key in wanted.get(PRIOR_REPORT, ()) if key.isascii() and key.isdigit() and len(key) < 19}
    for part in chunked({int(key) for key in numbers if str(int(key)) == key}):
        found.update(Holding(*row) for row in conn.execute(_reports().where(report_links.c.report_id.in_(part))))
    for column, kind in ISP_KEYS:
        for part in chunked(wanted.get(kind, ())):
            query = _answers(column, kind).where(isp_answers.c[column].in_(part))
            found.update(Holding(*row) for row in conn.execute(query))
    return sorted(found, key=lambda h: (h.kind, h.key, h.suspect))


def subscriber_documents(conn: Connection) -> list[SubscriberDocument]:
    """The ID documents ISP answers named the subscribers of linked reports by (keyed by the caller: the key's
    rule, `link.extract.subscriber_key`, is link's)."""
    a, link = isp_answers, report_links
    query = (
        select(link.c.suspect_id, a.c.id_document_type, a.c.id_document_number)
        .select_from(
            a.join(link, link.c.report_id == a.c.report_id).join(reports, reports.c.report_id == a.c.report_id)
        )
        .where(a.c.id_document_number.is_not(None), a.c.id_document_number != "")
    )
    return [SubscriberDocument(*row) for row in conn.execute(query)]


def device_values(conn: Connection, keys: Iterable[str]) -> list[tuple[str, str]]:
    """(compared form, form received) of the current device identifiers compared as one of `keys`."""
    o = identifier_observations
    query = select(o.c.canonical, o.c.value).where(o.c.kind == "device", o.c.is_current.is_(True))
    out: list[tuple[str, str]] = []
    for part in chunked(set(keys)):
        out.extend((canonical, value) for canonical, value in conn.execute(query.where(o.c.canonical.in_(part))))
    return out
