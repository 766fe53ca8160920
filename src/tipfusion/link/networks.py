"""Suspects → networks: a weighted suspect graph and its Leiden communities.

Edges come from shared chat groups/rooms, messages between suspects (one is the other's intended recipient),
rare files in common (several; one file is weak; a viral, widely circulating or known-list file is nothing), and
membership of the same foreign lead list. Leiden (igraph's built-in, modularity) splits what a single bridging
account would otherwise glue together; connected components remain available as the coarse view.
"""

from __future__ import annotations

import random
from collections import defaultdict
from itertools import combinations

import igraph

from tipfusion.link.records import Clustering, Link, LinkInput, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import components
from tipfusion.normalise.registry import ACCOUNT_KEYS

GROUP_EVIDENCE = "group"
"""The network evidence (and noise override) name of a shared group or chat room: every kind whose `Links.how` is
GROUP meets under it."""


def same_groups(groups: list[tuple[int, str]]) -> dict[str, str]:
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


def find_networks(
    data: LinkInput, suspect_of: dict[int, int], settings: LinkSettings
) -> tuple[Clustering, dict[int, int]]:
    """(networks, coarse components). Labels are suspect ids; a suspect in no network is absent from both."""
    evidence: dict[tuple[int, int], dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    suppressed: list[Suppressed] = []

    def connect(members: set[int], kind: str, value: str, weight: float) -> None:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                evidence[(a, b)][kind].append((value, weight))

    groups: dict[str, set[int]] = defaultdict(set)
    for report, key in data.groups:
        groups[key].add(suspect_of[report])
    one_group = same_groups(data.groups)
    group_pairs: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for key, members in groups.items():
        if len(members) > settings.group_cap:
            suppressed.append(public_group(key, len(members)))
        elif len(members) > 1:
            group_pairs[one_group.get(key, key)].update(combinations(sorted(members), 2))
    for label, pairs in group_pairs.items():  # a pair in one group counts once, however many ways it was seen
        for pair in pairs:
            evidence[pair][GROUP_EVIDENCE].append((label, settings.group_weight))

    viral: set[str] = {key for _, key, flagged in data.files if flagged}
    holders: dict[str, set[int]] = defaultdict(set)
    for report, key, _ in data.files:
        holders[key].add(suspect_of[report])
    for key, members in holders.items():
        if key in data.known_files:
            if len(members) > 1:
                suppressed.append(known_file(key, len(members), data.known_files[key]))
        elif key in viral:
            if len(members) > 1:
                suppressed.append(viral_file(key, len(members)))
        elif len(members) > settings.file_cap:
            suppressed.append(circulating_file(key, len(members)))
        elif len(members) > 1:
            connect(members, "rare_file", key, settings.rare_file_weight)

    account_owner: dict[str, int] = {}
    for report, kind, key in data.identity:
        if kind in ACCOUNT_KEYS:  # one suspect, unless an analyst split the account's reports: then the first
            account_owner[key] = min(account_owner.get(key, suspect_of[report]), suspect_of[report])
    for report, recipient in data.recipients:
        other = account_owner.get(recipient)
        sender = suspect_of[report]
        if other is not None and other != sender:
            connect({sender, other}, "message", recipient, settings.recipient_weight)

    by_value: dict[tuple[str, str], set[int]] = defaultdict(set)
    for report, kind, key in data.identity:
        by_value[(kind, key)].add(suspect_of[report])
    lead_members: dict[str, set[int]] = defaultdict(set)
    for lead_ref, kind, key in data.leads:
        lead_members[lead_ref] |= by_value.get((kind, key), set())
    for lead_ref, members in lead_members.items():
        if len(members) > 1:
            connect(members, "lead", lead_ref, settings.lead_weight)

    places: dict[str, set[int]] = defaultdict(set)
    for report, key in data.colocations:
        places[key].add(suspect_of[report])
    for key, members in places.items():
        if 1 < len(members) <= settings.colocation_cap:
            connect(members, "colocation", key, settings.colocation_weight)

    links = [found for (a, b), kinds in evidence.items() if (found := network_link(a, b, kinds, settings)) is not None]
    vertices = sorted({s for link in links for s in (link.a, link.b)})
    coarse = components(vertices, ((link.a, link.b) for link in links))
    label_of, kept = communities(links, settings)
    return Clustering(label_of, kept, suppressed), coarse


# -- the rules both engines apply (the Spark engine calls these on the driver) -------------------------------------
def public_group(key: str, holders: int) -> Suppressed:
    return Suppressed(GROUP_EVIDENCE, key, holders, f"shared by {holders} suspects: a public channel, not a ring")


def known_file(key: str, holders: int, why: str) -> Suppressed:
    return Suppressed("file", key, holders, f"{why}: known circulating content, not a ring's own")


def viral_file(key: str, holders: int) -> Suppressed:
    return Suppressed("file", key, holders, "flagged viral or meme by the ESP")


def circulating_file(key: str, holders: int) -> Suppressed:
    return Suppressed("file", key, holders, f"held by {holders} suspects: circulating material, not a ring's own")


def network_link(a: int, b: int, kinds: dict[str, list[tuple[str, float]]], settings: LinkSettings) -> Link | None:
    """All that ties two suspects, kind → [(value, weight)], → the explained edge, or None below the threshold.
    Each kind shows its first five values (in value order, so the same store gives the same text) and a total."""
    score = 0.0
    parts: list[tuple[str, str, float]] = []
    for kind, unordered in sorted(kinds.items()):
        if kind == "rare_file" and len(unordered) < settings.min_rare_files:
            continue
        found = sorted(unordered)
        score += sum(w for _, w in found)
        parts.extend((kind, value, w) for value, w in found[:5])
        if len(found) > 5:
            parts.append((kind, f"… and {len(found) - 5} more", sum(w for _, w in found[5:])))
    return Link(a, b, round(score, 3), tuple(parts)) if score >= settings.edge_threshold else None


def communities(links: list[Link], settings: LinkSettings) -> tuple[dict[int, int], list[Link]]:
    """Leiden over the suspect graph: suspect → network (its smallest suspect), and the edges inside networks.
    A suspect alone in its community is in no network. Edges go in by suspect pair: Leiden's result depends on the
    order it meets them, and both engines must meet them in the same order."""
    links = sorted(links, key=lambda link: (link.a, link.b))
    vertices = sorted({s for link in links for s in (link.a, link.b)})
    if not vertices:
        return {}, []
    index = {suspect: i for i, suspect in enumerate(vertices)}
    graph = igraph.Graph(n=len(vertices), edges=[(index[link.a], index[link.b]) for link in links])
    random.seed(settings.seed)  # igraph draws from Python's generator: same input, same communities
    clustering = graph.community_leiden(
        objective_function="modularity",
        weights=[link.score for link in links],
        resolution=settings.resolution,
        n_iterations=-1,
    )
    groups_of: dict[int, list[int]] = defaultdict(list)
    for i, community in enumerate(clustering.membership):
        groups_of[community].append(vertices[i])
    label_of: dict[int, int] = {}
    for community_members in groups_of.values():
        if len(community_members) > 1:
            smallest = min(community_members)
            for suspect in community_members:
                label_of[suspect] = smallest
    kept = [link for link in links if label_of.get(link.a) is not None and label_of.get(link.a) == label_of.get(link.b)]
    return label_of, kept
