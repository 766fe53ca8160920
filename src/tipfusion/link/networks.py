"""Suspects → networks: a weighted suspect graph and its Leiden communities.

Edges come from shared chat groups/rooms, messages between suspects (one is the other's intended recipient),
rare files in common (several; one file is weak, and weaker the more suspects hold it; a viral, widely circulating
or known-list file is nothing), and membership of the same foreign lead list. Some evidence only adds to those and
never makes an edge alone: one rare file, one fixed line on the same day (a household is one address, maybe several
people), and writing to one account neither suspect is (a ring's account the store knows only as a recipient).
Leiden (igraph's built-in, the constant Potts model), run on each connected component by itself, splits what a
single bridging account would otherwise glue together; connected components remain available as the coarse view.
Then the network's own structure: a suspect left in no network joins one through those weaker ties only when they
reach several of its members (`attach`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations

import igraph
import numpy as np

from tipfusion.link.columns import FileRows, IdentityRows, ReportKeys, labeller
from tipfusion.link.records import Clustering, Link, LinkInput, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import components, discount
from tipfusion.normalise.registry import ACCOUNT_KEYS

GROUP_EVIDENCE = "group"
"""The network evidence (and noise override) name of a shared group or chat room: every kind whose `Links.how` is
GROUP meets under it."""
FILE_EVIDENCE = "rare_file"
CONTACT_EVIDENCE = "contact"
CORROBORATING = frozenset({"colocation", CONTACT_EVIDENCE})
"""Evidence that adds to a tie between two suspects but never makes one alone (nor does one rare file)."""
JOINS = "joins"
"""The evidence kind a suspect's joining a network through several members is explained under."""

Evidence = dict[tuple[int, int], dict[str, list[tuple[str, float]]]]
"""(suspect a < suspect b) → evidence kind → [(value, weight)]: everything that ties two suspects."""


def same_groups(groups: Iterable[tuple[int, str]]) -> dict[str, str]:
    """Group keys that name one group, → one label for it (`a = b`); keys seen only one way are absent.

    A report can reach one group twice: as the reported account's ESP group (`<ESP>/<name>`) and as the incident's
    chat room (`<chat client>/<name>`). Keys that one report carries under the same name are taken as one group.
    """
    by_name: dict[tuple[int, str], set[str]] = defaultdict(set)
    for report, key in groups:
        by_name[(report, key.partition("/")[2] or key)].add(key)
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for keys in by_name.values():
        first, *rest = sorted(keys)
        for key in rest:
            parent[root(key)] = root(first)
    members: dict[str, list[str]] = defaultdict(list)
    for key in {key for keys in by_name.values() for key in keys}:
        members[root(key)].append(key)
    return {key: " = ".join(sorted(keys)) for keys in members.values() if len(keys) > 1 for key in keys}


def account_owners(
    identity: IdentityRows, suspect_at: Callable[[np.ndarray], np.ndarray], keys: set[str]
) -> dict[str, int]:
    """The suspect holding each of `keys` as an account (one suspect, unless an analyst split the account's reports:
    then the first), for the keys some report holds as an account. Grouped with NumPy: every report holds its own
    account, and only recipients' keys are looked up."""
    mask = identity.is_kind(ACCOUNT_KEYS)
    none = np.iinfo(np.int64).max
    smallest = np.full(identity.distinct, none, dtype=np.int64)
    np.minimum.at(smallest, identity.value_ids[mask], suspect_at(identity.report_ids[mask]))
    owners: dict[str, int] = {}
    for key in keys:
        for kind in ACCOUNT_KEYS:
            code = identity.code_of(kind, key)
            if code is not None and (owner := int(smallest[code])) != none:
                owners[key] = min(owners.get(key, owner), owner)
    return owners


def find_networks(
    data: LinkInput, suspect_of: dict[int, int], settings: LinkSettings, ties: list[tuple[int, int]] | None = None
) -> tuple[Clustering, dict[int, int]]:
    """(networks, coarse components). Labels are suspect ids; a suspect in no network is absent from both. `ties`,
    when given, receives every pair of suspects anything ties, however weakly (`link.locality`)."""
    evidence: dict[tuple[int, int], dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    suppressed: list[Suppressed] = []

    def connect(members: Iterable[int], kind: str, value: str, weight: float) -> None:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                evidence[(a, b)][kind].append((value, weight))

    suspect_at = labeller(suspect_of)  # held() groups each kind of row by suspect: only values two suspects share
    one_group = same_groups(data.groups)
    group_pairs: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for key, members in ReportKeys.of(data.groups).held(suspect_at):
        if len(members) > settings.group_cap:
            suppressed.append(public_group(key, len(members)))
        else:
            group_pairs[one_group.get(key, key)].update(combinations(members, 2))
    for label, pairs in group_pairs.items():  # a pair in one group counts once, however many ways it was seen
        for pair in pairs:
            evidence[pair][GROUP_EVIDENCE].append((label, settings.group_weight))

    files = FileRows.of(data.files)
    viral = files.flagged_keys()
    for key, members in files.held(suspect_at):
        if key in data.known_files:
            suppressed.append(known_file(key, len(members), data.known_files[key]))
        elif key in viral:
            suppressed.append(viral_file(key, len(members)))
        elif len(members) > settings.file_cap:
            suppressed.append(circulating_file(key, len(members)))
        else:
            connect(members, FILE_EVIDENCE, key, settings.rare_file_weight)

    identity = IdentityRows.of(data.identity)
    recipients = ReportKeys.of(data.recipients)
    account_owner = account_owners(identity, suspect_at, {key for _, key in recipients})
    senders: dict[str, set[int]] = defaultdict(set)  # accounts the store knows only as someone's recipient
    for report, recipient in recipients:
        other = account_owner.get(recipient)
        sender = suspect_of[report]
        if other is None:
            senders[recipient].add(sender)
        elif other != sender:
            connect({sender, other}, "message", recipient, settings.recipient_weight)
    for key, writers in senders.items():
        if len(writers) > settings.contact_cap:
            suppressed.append(busy_recipient(key, len(writers)))
        elif len(writers) > 1:
            connect(writers, CONTACT_EVIDENCE, key, contact_weight(len(writers), settings))

    by_value: dict[tuple[str, str], set[int]] = defaultdict(set)
    for report, kind, key in identity.holding({(kind, key) for _, kind, key in data.leads}):
        by_value[(kind, key)].add(suspect_of[report])
    # lead → suspect → the fewest suspects holding one listed value it holds (1: the list names this suspect)
    lead_members: dict[str, dict[int, int]] = defaultdict(dict)
    for lead_ref, kind, key in data.leads:
        listed = by_value.get((kind, key), set())
        for suspect in listed:
            lead_members[lead_ref][suspect] = min(lead_members[lead_ref].get(suspect, len(listed)), len(listed))
    for lead_ref, sharing in lead_members.items():
        ordered = sorted(sharing)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                evidence[(a, b)]["lead"].append((lead_ref, lead_weight(max(sharing[a], sharing[b]), settings)))

    for key, members in ReportKeys.of(data.colocations).held(suspect_at):
        if len(members) <= settings.colocation_cap:
            connect(members, "colocation", key, settings.colocation_weight)

    if ties is not None:
        ties.extend(evidence)
    label_of, kept, coarse = settle(evidence, settings)
    return Clustering(label_of, kept, suppressed), coarse


def settle(evidence: Evidence, settings: LinkSettings) -> tuple[dict[int, int], list[Link], dict[int, int]]:
    """Everything that ties suspects → (suspect → network, the explained edges inside networks, coarse components).
    Both engines gather the evidence their own way and settle it here, on the driver."""
    links = [found for (a, b), kinds in evidence.items() if (found := network_link(a, b, kinds, settings)) is not None]
    vertices = sorted({s for link in links for s in (link.a, link.b)})
    coarse = components(vertices, ((link.a, link.b) for link in links))
    holders = holders_of(evidence)
    label_of, kept = not_on_others_files(*communities(links, settings, coarse), holders, settings)
    joined, ties = attach(evidence, label_of, holders, settings)
    if not joined:
        return label_of, kept, coarse
    members: dict[int, list[int]] = defaultdict(list)
    for suspect, network in {**label_of, **joined}.items():
        members[network].append(suspect)
    relabelled = {suspect: min(group) for group in members.values() for suspect in group}  # still its smallest
    return relabelled, kept + ties, coarse


# -- the rules both engines apply (the Spark engine calls these on the driver) -------------------------------------
def public_group(key: str, holders: int) -> Suppressed:
    return Suppressed(GROUP_EVIDENCE, key, holders, f"shared by {holders} suspects: a public channel, not a ring")


def known_file(key: str, holders: int, why: str) -> Suppressed:
    return Suppressed("file", key, holders, f"{why}: known circulating content, not a ring's own")


def viral_file(key: str, holders: int) -> Suppressed:
    return Suppressed("file", key, holders, "flagged viral or meme by the ESP")


def circulating_file(key: str, holders: int) -> Suppressed:
    return Suppressed("file", key, holders, f"held by {holders} suspects: circulating material, not a ring's own")


def busy_recipient(key: str, senders: int) -> Suppressed:
    return Suppressed(CONTACT_EVIDENCE, key, senders, f"written to by {senders} suspects: says nothing about a ring")


def lead_weight(sharing: int, settings: LinkSettings) -> float:
    """Two suspects on one lead list, through values as many suspects hold: a family phone on the list names one of
    the family, not which (two holders: half the weight, too little to link alone)."""
    return settings.lead_weight / sharing


def file_weight(holders: int, settings: LinkSettings) -> float:
    """One rare file in common, rarer is stronger: full weight up to 3 suspects holding it, nothing at the cap."""
    return discount(settings.rare_file_weight, holders, settings.file_cap)


def contact_weight(senders: int, settings: LinkSettings) -> float:
    """Two suspects writing to one account neither is: weaker the more suspects wrote to it."""
    return discount(settings.contact_weight, senders, settings.contact_cap)


RARITY = {FILE_EVIDENCE: file_weight, CONTACT_EVIDENCE: contact_weight}
"""The kinds weighed by how many suspects share the value (in a network's eyes: how many outside it)."""


def tie(a: int, b: int, kinds: dict[str, list[tuple[str, float]]]) -> Link:
    """All that ties two suspects, kind → [(value, weight)], → the explained tie, however weak.
    Each kind shows its first five values (in value order, so the same store gives the same text) and a total."""
    score = 0.0
    parts: list[tuple[str, str, float]] = []
    for kind, unordered in sorted(kinds.items()):
        found = sorted(unordered)
        score += sum(w for _, w in found)
        parts.extend((kind, value, w) for value, w in found[:5])
        if len(found) > 5:
            parts.append((kind, f"… and {len(found) - 5} more", sum(w for _, w in found[5:])))
    return Link(a, b, round(score, 3), tuple(parts))


def stands_alone(kinds: dict[str, list[tuple[str, float]]], settings: LinkSettings) -> bool:
    """Whether the tie holds something that can link two suspects by itself: a group, a message, a lead list, or
    several rare files; not one rare file, a shared line or a shared contact alone."""
    return len(kinds.get(FILE_EVIDENCE, ())) >= settings.min_rare_files or any(
        kind not in CORROBORATING and kind != FILE_EVIDENCE for kind in kinds
    )


def network_link(a: int, b: int, kinds: dict[str, list[tuple[str, float]]], settings: LinkSettings) -> Link | None:
    """All that ties two suspects → the explained edge, or None when nothing in it stands alone or it is below the
    threshold."""
    if not stands_alone(kinds, settings):
        return None
    found = tie(a, b, kinds)
    return found if found.score >= settings.edge_threshold else None


def holders_of(evidence: Evidence) -> dict[tuple[str, str], set[int]]:
    """(kind, value) → the suspects sharing it, for the kinds whose weight depends on how rare they are there."""
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for pair, kinds in evidence.items():
        for kind in RARITY.keys() & kinds.keys():
            for value, _ in kinds[kind]:
                holders[(kind, value)].update(pair)
    return holders


def not_on_others_files(
    label_of: dict[int, int], kept: list[Link], holders: dict[tuple[str, str], set[int]], settings: LinkSettings
) -> tuple[dict[int, int], list[Link]]:
    """Networks held together by files alone stand only on files of their own: `min_rare_files` files no suspect
    outside holds. Two strangers who both hold two files a handful of others hold too are no ring (they are left in
    no network); a ring that shares no group keeps the files only it has."""
    inside: dict[int, list[Link]] = defaultdict(list)
    for link in kept:
        inside[label_of[link.a]].append(link)
    dropped: set[int] = set()
    for network, found in inside.items():
        if any(kind not in CORROBORATING and kind != FILE_EVIDENCE for link in found for kind, _, _ in link.evidence):
            continue
        members = {s for s, label in label_of.items() if label == network}
        files = {value for link in found for kind, value, _ in link.evidence if kind == FILE_EVIDENCE}
        own = sum(1 for value in files if holders.get((FILE_EVIDENCE, value), set()) <= members)
        if own < settings.min_rare_files:
            dropped.add(network)
    if not dropped:
        return label_of, kept
    return (
        {s: label for s, label in label_of.items() if label not in dropped},
        [link for link in kept if label_of[link.a] not in dropped],
    )


def attach(
    evidence: Evidence, label_of: dict[int, int], holders: dict[tuple[str, str], set[int]], settings: LinkSettings
) -> tuple[dict[int, int], list[Link]]:
    """Suspects in no network that join one through ties to several of its members → (suspect → network, the ties,
    each explained with what the joining added up to).

    A ring member seen once, on a service without groups, holding one of the ring's files and writing to a ring
    account the store knows only as a recipient has no edge; together those ties reach several members. Each value
    counts once however many members it reaches (one file held by five members is one file), and a candidate joins
    the network its ties weigh most in only with `attach_members` members and `edge_threshold` bits. Networks are
    those Leiden found: one joining does not help another.

    A file or a contact is as rare, there, as the suspects outside the network who share it: the ring's own file
    held by five members and the candidate is the ring's own (full weight), while two moderately common files two
    strangers hold reach no network at all."""
    reach: dict[int, dict[int, list[tuple[int, dict[str, list[tuple[str, float]]]]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for (a, b), kinds in evidence.items():
        for candidate, member in ((a, b), (b, a)):
            if candidate not in label_of and member in label_of:
                reach[candidate][label_of[member]].append((member, kinds))
    joined: dict[int, int] = {}
    ties: list[Link] = []
    for candidate in sorted(reach):
        best: tuple[float, int, int, list[tuple[int, dict[str, list[tuple[str, float]]]]]] | None = None
        for network, found in sorted(reach[candidate].items()):
            values = {(kind, value): w for _, kinds in found for kind, pairs in kinds.items() for value, w in pairs}
            for kind, value in values.keys() & holders.keys():
                outside = sum(1 for s in holders[(kind, value)] if label_of.get(s) != network)
                values[(kind, value)] = RARITY[kind](outside, settings)
            total = round(sum(values[key] for key in sorted(values)), 3)
            members = len({member for member, _ in found})
            enough = members >= settings.attach_members and total >= settings.edge_threshold
            if enough and (best is None or total > best[0]):
                best = (total, network, members, found)
        if best is None:
            continue
        total, network, members, found = best
        joined[candidate] = network
        words = f"{members} members of the network, {total:g} bits in all (each value once, as rare as outside it)"
        for member, kinds in sorted(found, key=lambda item: item[0]):
            a, b = sorted((candidate, member))
            plain = tie(a, b, kinds)
            ties.append(Link(a, b, plain.score, (*plain.evidence, (JOINS, words, 0.0))))
    return joined, ties


def communities(
    links: list[Link], settings: LinkSettings, coarse: dict[int, int] | None = None
) -> tuple[dict[int, int], list[Link]]:
    """Leiden within each connected component of the suspect graph (`coarse`, suspect → its component's smallest
    suspect, computed when not given): suspect → network (its smallest suspect), and the edges inside networks. A
    suspect alone in its community is in no network.

    The objective is the constant Potts model: two parts of a component are one network when the ties between them
    hold more than `min_density` bits for every pair of suspects across them (a message between two rings of eight
    holds 3 bits for 64 pairs, and leaves them apart). That rule is the same in a store of any size, and each
    component is split on its own with a seed of its own, so a component's networks depend on nothing outside it:
    re-linking the components a batch touches gives what a rebuild gives.

    Modularity over the whole graph, used before, weighed a split against every edge in the store: in a large store
    it never split a component (a split's expected gain shrinks with the store's total weight, its loss does not)
    while a small store split the same ring, and a batch in one component could move boundaries in another."""
    links = sorted(links, key=lambda link: (link.a, link.b))
    if not links:
        return {}, []
    if coarse is None:
        vertices = sorted({s for link in links for s in (link.a, link.b)})
        coarse = components(vertices, ((link.a, link.b) for link in links))
    inside: dict[int, list[Link]] = defaultdict(list)
    for link in links:
        inside[coarse[link.a]].append(link)
    label_of: dict[int, int] = {}
    for smallest, edges in inside.items():
        for members in component_communities(edges, settings, smallest):
            if len(members) > 1:
                network = min(members)
                for suspect in members:
                    label_of[suspect] = network
    kept = [link for link in links if label_of.get(link.a) is not None and label_of.get(link.a) == label_of.get(link.b)]
    return label_of, kept


def component_communities(links: list[Link], settings: LinkSettings, smallest: int) -> list[list[int]]:
    """One connected component's edges (sorted by suspect pair) → its Leiden communities.

    Edges go in by suspect pair and the random order comes from the component's own seed (its smallest suspect's):
    Leiden's result depends on both, and both engines, a rebuild and a re-link of the component must meet the same.

    A small component is one network without asking Leiden: a split of k connected suspects into m parts cuts at
    least m − 1 ties and leaves at most (m − 1) × k²/4 pairs across, so when the weakest tie holds more than
    `min_density` × k²/4 bits, no split gains. Every tie reaches `edge_threshold` (2 bits): that is every component
    of up to 8 suspects, most of them."""
    vertices = sorted({s for link in links for s in (link.a, link.b)})
    if min(link.score for link in links) > settings.min_density * len(vertices) ** 2 / 4:
        return [vertices]
    index = {suspect: i for i, suspect in enumerate(vertices)}
    graph = igraph.Graph(n=len(vertices), edges=[(index[link.a], index[link.b]) for link in links])
    random.seed(f"{settings.seed}/{smallest}")  # igraph draws from Python's generator: same input, same communities
    clustering = graph.community_leiden(
        objective_function="CPM",
        weights=[link.score for link in links],
        resolution=settings.min_density,
        n_iterations=-1,
    )
    groups: dict[int, list[int]] = defaultdict(list)
    for i, community in enumerate(clustering.membership):
        groups[community].append(vertices[i])
    return list(groups.values())
