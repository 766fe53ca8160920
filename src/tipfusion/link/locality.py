"""The parts of a store linking decides on their own: what re-linking only what a batch touched stands on.

Two reports are *tied* when linking looked at them together: they are one suspect, or the suspects stage judged a
pair of their accounts (a value both hold under its kind's cap, a rare name), or the networks stage weighed anything
between their suspects (a group, a file, a message, a contact, a lead, a line; weak ties too: `attach` and
`not_on_others_files` read them). A connected component of ties is decided by its own input and the store's
`LinkModel` alone: every value its reports share with a report outside it is one linking suppressed (held by too many
accounts or suspects, or flagged), and stays suppressed. So a component linked alone (`within`, with the whole store's
model) gives what linking everything gives there — `tests/test_link_locality.py` holds it on generated stores.

On the generator's stores a component holds ~4 reports on average and the largest a few hundred; a batch of 1 % of
a store's reports lies in components holding ~12 % of it (`benchmarks/link_locality.py`).
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from tipfusion.link.columns import (
    FileRows,
    IdentityRows,
    ReportKeys,
    distinct_pairs,
    positions_in,
    smallest_in_components,
    stable_hashes,
)
from tipfusion.link.networks import CONTACT_EVIDENCE, GROUP_EVIDENCE
from tipfusion.link.records import LinkInput, LinkModel, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import Nodes, account_nodes, kind_caps, name_stats, over_cap, rare_name_pairs
from tipfusion.normalise.registry import ACCOUNT_KEYS

K = TypeVar("K", bound=Hashable)


def tie_components(reports: list[int], suspect_of: dict[int, int], ties: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each report → the smallest report of its component of ties (`ties`: pairs of accounts or suspects, each named
    by its smallest report, as `resolve_suspects` and `find_networks` hand them out)."""
    ordered = np.array(sorted(reports), dtype=np.int64)
    pairs = np.array([*suspect_of.items(), *ties], dtype=np.int64).reshape(-1, 2)
    at = np.searchsorted(ordered, pairs)
    smallest = smallest_in_components(len(ordered), at[:, 0], at[:, 1], ordered)
    return dict(zip(ordered.tolist(), smallest.tolist(), strict=True))


def within(
    data: LinkInput, reports: Collection[int], suppressed: Iterable[Suppressed], networks: bool = True
) -> LinkInput:
    """What linking needs to decide `reports` (whole components of ties) alone: their rows, without the values they
    share with reports outside, which the whole store's linking suppressed (`suppressed`: its records, carried over
    with the whole store's counts; a part's own count would be smaller, and could fall under the cap). `networks`:
    False for what the suspects stage reads only (no groups, files, recipients, lines or leads).

    The identity rows are sorted by whole columns (a Python step per row of the part only: an incremental link's
    part is a small share of the store)."""
    inside = set(reports)
    records = {(s.kind, s.value): s for s in suppressed}
    identity = IdentityRows.of(data.identity)
    part = np.isin(identity.report_ids, np.fromiter(inside, dtype=np.int64, count=len(inside)))
    crossing = np.intersect1d(identity.value_ids[part], identity.value_ids[~part])
    # a value the part shares with reports outside is one the store's linking suppressed (values of kinds it does not
    # count stay as they are: accounts, leads): the part keeps its rows, which a contradiction counts ("both show a
    # phone, none in common"), and is told not to share it (`too_widely_held`), with the store's record of it
    widely = {value for code in crossing.tolist() if (value := identity.value(code)) in records}
    verified = IdentityRows.of(data.verified)
    in_verified = np.isin(verified.report_ids, np.fromiter(inside, dtype=np.int64, count=len(inside)))
    found = LinkInput(
        reports=sorted(inside),
        identity=IdentityRows(identity.rows_where(part)),
        names={r: data.names[r] for r in inside if r in data.names},
        ages={r: data.ages[r] for r in inside if r in data.ages},
        born={r: data.born[r] for r in inside if r in data.born},
        verified=IdentityRows(verified.rows_where(in_verified)),
        suppressed=[*data.suppressed, *(records[value] for value in sorted(widely))],
        too_widely_held=widely,
    )
    if not networks:
        return found

    def crossing_keys(rows: Iterable[tuple[int, K]]) -> set[K]:
        held_in: set[K] = set()
        held_out: set[K] = set()
        for report, key in rows:
            (held_in if report in inside else held_out).add(key)
        return held_in & held_out

    groups = crossing_keys(ReportKeys.of(data.groups))
    files = crossing_keys((report, key) for report, key, _ in FileRows.of(data.files))
    recipients = crossing_keys(ReportKeys.of(data.recipients))
    colocations = crossing_keys(ReportKeys.of(data.colocations))
    found.suppressed += [records[(GROUP_EVIDENCE, key)] for key in sorted(groups) if (GROUP_EVIDENCE, key) in records]
    found.suppressed += [records[("file", key)] for key in sorted(files) if ("file", key) in records]
    found.suppressed += [
        records[(CONTACT_EVIDENCE, key)] for key in sorted(recipients) if (CONTACT_EVIDENCE, key) in records
    ]
    found.groups = ReportKeys(row for row in data.groups if row[0] in inside and row[1] not in groups)
    found.files = FileRows(row for row in FileRows.of(data.files) if row[0] in inside and row[1] not in files)
    found.known_files = dict(data.known_files)
    found.recipients = ReportKeys(row for row in data.recipients if row[0] in inside and row[1] not in recipients)
    found.leads = list(data.leads)
    found.colocations = ReportKeys(row for row in data.colocations if row[0] in inside and row[1] not in colocations)
    return found


@dataclass(frozen=True)
class HeldValues:
    """The values of the kinds the suspects stage counts, each with the distinct accounts (nodes) holding it, as
    `resolve_suspects` counts them: rows sorted by value, then node (`distinct_pairs`), a run per value."""

    rows: IdentityRows
    nodes: Nodes
    values: np.ndarray  # per row: the value's code
    positions: np.ndarray  # per row: the node's position
    starts: np.ndarray  # per value: where its run starts
    holders: np.ndarray  # per value: how many nodes hold it
    caps: np.ndarray  # per value: its kind's cap

    @classmethod
    def of(cls, data: LinkInput, settings: LinkSettings) -> HeldValues:
        rows = IdentityRows.of(data.identity)
        nodes, at, _ = account_nodes(rows, data.reports)
        counted = rows.is_kind(set(settings.weights) - ACCOUNT_KEYS)
        values, positions, starts, holders = distinct_pairs(
            rows.value_ids[counted], nodes.node_at[at[counted]], nodes.count
        )
        caps = kind_caps(rows, settings)[rows.kind_ids[values[starts]]] if len(starts) else holders
        return cls(rows, nodes, values, positions, starts, holders, caps)

    def over_cap(self) -> list[Suppressed]:
        """What the suspects stage suppresses as held by too many accounts, over the whole of `data`."""
        over = np.flatnonzero((self.holders > 1) & (self.holders > self.caps))
        found = zip(
            self.values[self.starts[over]].tolist(), self.holders[over].tolist(), self.caps[over].tolist(), strict=True
        )
        return [over_cap(*self.rows.value(value), held, cap) for value, held, cap in found]


@dataclass(frozen=True)
class EvidenceState:
    """What an incremental link compares with the last link's, to find what changed: each report's evidence digest,
    and how many accounts hold each value two or more hold (a value's count moves its weight, and its cap, for
    every holder, though only one report's evidence changed). Values by their `stable_hashes`."""

    digests: dict[int, int]
    holders: dict[int, int]
    caps: dict[int, int]  # each of those values' kind's cap
    hashes: np.ndarray  # each identity value code's hash (uint64), as `holding` looks values up

    @classmethod
    def of(cls, data: LinkInput, settings: LinkSettings, held: HeldValues | None = None) -> EvidenceState:
        """`held`: `HeldValues.of(data, settings)`, when the caller has it."""
        rows = IdentityRows.of(data.identity)
        hashes = rows.value_hashes()
        held = held or HeldValues.of(data, settings)
        shared = held.holders > 1
        values = held.values[held.starts[shared]]
        keys = hashes[values].view(np.int64).tolist()
        counts = dict(zip(keys, held.holders[shared].tolist(), strict=True))
        caps = dict(zip(keys, held.caps[shared].tolist(), strict=True))
        return cls(report_digests(data, hashes), counts, caps, hashes)

    def holding(self, data: LinkInput, values: Collection[int]) -> set[int]:
        """The reports holding any of these values (by hash)."""
        rows = IdentityRows.of(data.identity)
        if not values or not len(rows):
            return set()
        wanted = np.fromiter(values, dtype=np.int64, count=len(values))
        held = np.isin(self.hashes.view(np.int64), wanted)
        return set(np.unique(rows.report_ids[held[rows.value_ids]]).tolist())


def report_digests(data: LinkInput, identity_hashes: np.ndarray | None = None) -> dict[int, int]:
    """Each report → a digest (a signed 64-bit number) of what the suspects stage reads about it: its identity
    values, the ones the ESP verified, names, ages and dates of birth. A report whose digest changed between two
    links (an ISP's answer arrived, an address was enriched, a new version came) is re-linked with what it touches.
    Each distinct value is hashed once (`columns.stable_hashes`); a report's digest adds its rows' (order does not
    matter, each row counts)."""
    reports = np.array(sorted(data.reports), dtype=np.int64)
    digest = np.zeros(len(reports), dtype=np.uint64)
    for salt, rows in ((1, IdentityRows.of(data.identity)), (2, IdentityRows.of(data.verified))):
        if len(rows):
            mine = identity_hashes if salt == 1 and identity_hashes is not None else rows.value_hashes()
            hashes = mine * np.uint64(2 * salt + 1)
            at = positions_in(reports, rows.report_ids, "evidence rows name reports that are not in the input")
            np.add.at(digest, at, hashes[rows.value_ids])
    for salt, found in ((3, data.names), (4, data.ages), (5, data.born)):
        # the extract keeps one object per distinct collection (`link.people`): each is written out once
        texts: list[str] = []
        text_of: dict[int, int] = {}  # id of a collection → its text's index, while `found` holds them all
        holders, which = array("q"), array("q")
        for report, values in found.items():
            if values:
                index = text_of.get(id(values))
                if index is None:
                    index = text_of[id(values)] = len(texts)
                    texts.append(repr(sorted(values)))
                holders.append(report)
                which.append(index)
        if texts:
            held = np.frombuffer(holders, dtype=np.int64)
            at = np.searchsorted(reports, held)
            known = (at < len(reports)) & (reports[np.minimum(at, len(reports) - 1)] == held)
            hashes = (stable_hashes(texts) * np.uint64(2 * salt + 1))[np.frombuffer(which, dtype=np.int64)]
            np.add.at(digest, at[known], hashes[known])
    return dict(zip(reports.tolist(), digest.view(np.int64).tolist(), strict=True))


def suspect_regions(
    data: LinkInput,
    settings: LinkSettings,
    model: LinkModel,
    joins: Iterable[tuple[int, int]] = (),
    held: HeldValues | None = None,
) -> dict[int, int]:
    """Each report → the smallest report of its region, found without linking: reports joined by an ESP account, by
    a value of a kind the suspects stage counts that no more accounts hold than its kind's cap, by a name `model`
    counts rare where the name can join them (`suspects.rare_name_pairs`: their ages meet), or by an analyst's join.
    Every pair of accounts the suspects stage judges lies in one region (the pairs it judges are those of such a
    value's holders, and those rare names' pairs), so a region's suspects are decided by its rows alone, weighed by
    the store's model: what an incremental link reads and re-links after a batch. (All of a rare name's holders,
    ages or not, made one region of 65,000 reports at 1 M.)"""
    held = held or HeldValues.of(data, settings)
    rows, nodes, values, positions, holders = held.rows, held.nodes, held.values, held.positions, held.holders
    n = nodes.count
    shared = np.repeat((holders > 1) & (holders <= held.caps), holders)  # each (value, node) row of a value that links
    left = [np.arange(n), positions[shared]]
    right = [nodes.node_at, n + values[shared]]  # a vertex per report, then one per value
    stats, by_rare_name = name_stats(data, nodes, settings, model.names)
    named = np.array(list(rare_name_pairs(data, nodes, by_rare_name, stats, settings)), dtype=np.int64).reshape(-1, 2)
    left.append(nodes.at(named[:, 0]))
    right.append(nodes.at(named[:, 1]))
    pairs = np.array(list(joins), dtype=np.int64).reshape(-1, 2)
    pairs = pairs[np.isin(pairs, nodes.reports).all(axis=1)]  # a join naming a report no longer held joins nothing
    if len(pairs):
        left.append(nodes.at(pairs[:, 0]))
        right.append(nodes.at(pairs[:, 1]))
    size = n + rows.distinct
    smallest = smallest_in_components(size, np.concatenate(left), np.concatenate(right), nodes.reports)
    return dict(zip(nodes.reports.tolist(), smallest.tolist(), strict=True))
