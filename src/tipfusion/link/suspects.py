"""Reports → suspects: weighted, frequency-aware evidence between the reported persons' accounts.

1. Reports on the same ESP account are one account (an ESP user ID is the best key there is).
2. Accounts sharing a value (email, phone, device, profile URL, a prior-report reference, an attributable IP)
   gain that value's weight, discounted as more distinct accounts hold it; above a per-kind cap the value is
   suppressed and listed ("used by 240 accounts"). Within a kind only the strongest shared value counts.
3. Names, where both sides give one, add (same person, more for a rarer name, more again with an age that agrees:
   `tipfusion.link.names`) or subtract (never the same person): a family phone alone does not make two people one.
   Evidence adds up: a home line and a display name, each too weak alone, join; a rare name and an agreeing age join
   accounts that share nothing else, a name alone never does.
4. A kind both accounts show and share none of (two phones) subtracts bounded bits measured on the store (how often
   its sure pairs agree on the kind, how often random accounts do: `tipfusion.link.evidence`): an email two people
   share does not make them one when their phones disagree.
5. Pairs at or above the threshold are joined, strongest first (`join_groups`): a link joins two groups of accounts
   unless the groups, taken whole, contradict it below the threshold; the groups are the suspects.

Weights are bits: every link explains itself as the values, names and contradictions it added up, each with its bits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tipfusion.link.evidence import (
    CONTRADICTION,
    Disagreement,
    contradictions,
    estimate_disagreements,
    measure_agreement,
)
from tipfusion.link.names import Name, Person, judge, measure, rare_names
from tipfusion.link.records import Clustering, Link, LinkInput, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.normalise.registry import ACCOUNT_KEYS

SAME_ACCOUNT = 10.0  # the score recorded for reports on one ESP account


def components(items: list[int], pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Connected components; each item is labelled with the smallest item of its component."""
    index = {item: i for i, item in enumerate(items)}
    edges = np.array([(index[a], index[b]) for a, b in pairs], dtype=np.int64).reshape(-1, 2)
    n = len(items)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.array(items, dtype=np.int64)
    smallest = np.full(labels.max() + 1 if n else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, labels, order)
    return {item: int(smallest[labels[i]]) for i, item in enumerate(items)}


def discount(weight: float, holders: int, cap: int) -> float:
    """Full weight for a value held by up to 3 accounts (one person's), falling to 0 at the cap."""
    if holders <= 3 or cap <= 3:
        return weight
    return weight * max(0.0, 1.0 - math.log(holders - 2) / math.log(max(cap - 1, 2)))


def resolve_suspects(data: LinkInput, settings: LinkSettings) -> Clustering:
    # 1. one ESP account, one node (the account kinds come from the registry: `ACCOUNT_KEYS`)
    by_account: dict[tuple[str, str], list[int]] = defaultdict(list)
    for report, kind, key in data.identity:
        if kind in ACCOUNT_KEYS:
            by_account[(kind, key)].append(report)
    node_of = components(data.reports, ((rs[0], r) for rs in by_account.values() for r in rs[1:]))

    # 2. shared values between nodes
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for report, kind, key in data.identity:
        if kind not in ACCOUNT_KEYS and kind in settings.weights:
            holders[(kind, key)].add(node_of[report])
    verified_nodes: dict[tuple[str, str], set[int]] = defaultdict(set)
    for report, kind, key in data.verified:
        verified_nodes[(kind, key)].add(node_of[report])
    suppressed = list(data.suppressed)
    best: dict[tuple[int, int], dict[str, tuple[float, str]]] = defaultdict(dict)
    for (kind, key), nodes in holders.items():
        if len(nodes) < 2:
            continue
        cap = settings.caps.get(kind, 10)
        if len(nodes) > cap:
            suppressed.append(over_cap(kind, key, len(nodes), cap))
            continue
        weight = discount(settings.weights[kind], len(nodes), cap)
        vouched = verified_nodes.get((kind, key), set())
        ordered = sorted(nodes)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pair_weight = weight + (settings.verified_bonus if a in vouched and b in vouched else 0.0)
                current = best[(a, b)].get(kind)
                # the strongest value of a kind; between equals the smallest, whatever order the rows came in
                if current is None or (pair_weight, current[1]) > (current[0], key):
                    best[(a, b)][kind] = (pair_weight, key)

    # 3. names for or against, weighed by their frequency; a rare name compares accounts sharing nothing else
    people = node_people(data, node_of)
    stats = measure(people.values(), settings)
    by_name: dict[Name, list[int]] = defaultdict(list)
    for node, person in people.items():
        for name in person.names:
            by_name[name].append(node)
    for name in sorted(rare_names(stats, settings)):
        ordered = sorted(by_name[name])
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                best.setdefault((a, b), {})  # a candidate pair, with no shared value yet
    # 4. kinds both show and share none of (m measured on the store's sure pairs, u on its value frequencies)
    shown: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    accounts_with: dict[str, set[int]] = defaultdict(set)
    for (kind, key), nodes in holders.items():
        if kind in settings.agreement_m:
            accounts_with[kind] |= nodes
            for node in nodes:
                shown[node][kind].add(key)
    nothing: dict[str, set[str]] = {}
    measured = measure_agreement(
        (
            ({kind: w for kind, (w, _) in kinds.items()}, shown.get(a, nothing), shown.get(b, nothing))
            for (a, b), kinds in best.items()
        ),
        settings,
    )
    against = estimate_disagreements(
        {kind: len(nodes) for kind, nodes in accounts_with.items()},
        ((kind, len(nodes)) for (kind, _), nodes in holders.items()),
        settings,
        measured,
    )
    links: list[Link] = []
    nobody = Person()
    for (a, b), kinds in best.items():
        named = judge(people.get(a, nobody), people.get(b, nobody), stats, settings)
        made = pair_link(a, b, kinds, named, settings, contradictions(shown.get(a, {}), shown.get(b, {}), against))
        if made is not None:
            links.append(made)

    # 5. suspects: the strongest links first, two groups of accounts joining unless the groups as wholes contradict
    joined, links = join_groups(links, shown, against, settings)
    label_of = {report: joined.get(node_of[report], node_of[report]) for report in data.reports}
    # reports on one ESP account: one explanation per account (its first and last report, and how many)
    for (kind, account), held in by_account.items():
        distinct = sorted(set(held))
        if len(distinct) > 1:
            links.append(account_link(kind, account, distinct[0], distinct[-1], len(distinct)))
    return Clustering(label_of, links, suppressed)


def join_groups(
    links: list[Link],
    shown: Mapping[int, Mapping[str, set[str]]],
    against: Mapping[str, Disagreement],
    settings: LinkSettings,
) -> tuple[dict[int, int], list[Link]]:
    """Accounts joined through links, strongest first: each link joins the two groups its accounts are in unless
    the groups, taken whole, show a kind and share none of it that the two accounts alone did not (a relative's
    mailbox on an account that shows no phone, when each side's other accounts show phones of their own): the link's
    score with those disagreements added must still reach the threshold. Without such disagreements this is
    connected components. → (node → smallest node of its group, for the nodes in links; the links within a group)."""
    parent: dict[int, int] = {}
    values: dict[int, dict[str, set[str]]] = {}

    def root(node: int) -> int:
        if node not in parent:
            parent[node] = node
            values[node] = {kind: set(found) for kind, found in shown.get(node, {}).items()}
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for link in sorted(links, key=lambda made: (-made.score, made.a, made.b)):
        a, b = root(link.a), root(link.b)
        if a == b:
            continue
        counted = contradictions(shown.get(link.a, {}), shown.get(link.b, {}), against)
        wider = contradictions(values[a], values[b], against)
        if link.score + sum(d.bits for kind, d in wider.items() if kind not in counted) < settings.threshold:
            continue
        small, large = sorted((a, b), key=lambda n: (sum(map(len, values[n].values())), n))
        parent[small] = large
        for kind, found in values.pop(small).items():
            values[large].setdefault(kind, set()).update(found)
    groups: dict[int, list[int]] = defaultdict(list)
    for node in list(parent):
        groups[root(node)].append(node)
    label = {node: min(members) for members in groups.values() for node in members}
    return label, [link for link in links if label[link.a] == label[link.b]]


def node_people(data: LinkInput, node_of: Mapping[int, int]) -> dict[int, Person]:
    """What each node's reports say about the reported person: names, stated ages, dates of birth."""
    names: dict[int, set[Name]] = defaultdict(set)
    ages: dict[int, set[int]] = defaultdict(set)
    born: dict[int, set[str]] = defaultdict(set)
    for report, found in data.names.items():
        names[node_of[report]] |= found
    for report, stated in data.ages.items():
        ages[node_of[report]] |= stated
    for report, dates in data.born.items():
        born[node_of[report]] |= dates
    nodes = names.keys() | ages.keys() | born.keys()
    return {n: Person(frozenset(names[n]), frozenset(ages[n]), frozenset(born[n])) for n in nodes}


# -- one value, one pair, one account: the rules both engines apply (the Spark engine calls these too) -------------
def over_cap(kind: str, key: str, holders: int, cap: int) -> Suppressed:
    return Suppressed(kind, key, holders, f"held by {holders} accounts (cap {cap})")


def pair_link(
    a: int,
    b: int,
    kinds: dict[str, tuple[float, str]],
    named: tuple[float, str] | None,
    settings: LinkSettings,
    against: Mapping[str, Disagreement] | None = None,
) -> Link | None:
    """Two accounts' strongest shared value of each kind (weight, value), what their real names say (bits, words;
    None: one of them names nobody — `link.names.judge`), and the kinds they both show and share none of → the
    explained link, or None below the threshold."""
    evidence = [(kind, key, weight) for kind, (weight, key) in sorted(kinds.items())]
    score = sum(w for _, _, w in evidence)
    if named is not None:
        bits, words = named
        score += bits
        evidence.append(("name", words, bits))
    for _, disagreement in sorted((against or {}).items()):
        if disagreement.bits:
            score += disagreement.bits
            evidence.append((CONTRADICTION, disagreement.words(), disagreement.bits))
    return Link(a, b, round(score, 3), tuple(evidence)) if score >= settings.threshold else None


def account_link(kind: str, account: str, first: int, last: int, reports: int) -> Link:
    """Reports on one ESP account: one explanation per account (its first and last report, and how many)."""
    return Link(first, last, SAME_ACCOUNT, ((kind, f"{account} ({reports} reports)", SAME_ACCOUNT),))
