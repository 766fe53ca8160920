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
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import TypeVar

import numpy as np

from tipfusion.link.columns import (
    IdentityRows,
    distinct_pairs,
    positions_in,
    smallest_in_components,
    sorted_distinct,
)
from tipfusion.link.evidence import (
    CONTRADICTION,
    Disagreement,
    contradictions,
    estimate_disagreements,
    measure_agreement,
)
from tipfusion.link.names import Name, NameStats, Person, age_weight, ages_meet, judge, rare_names
from tipfusion.link.records import Clustering, Link, LinkInput, LinkModel, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.normalise.registry import ACCOUNT_KEYS

T = TypeVar("T")
SAME_ACCOUNT = 10.0  # the score recorded for reports on one ESP account


UNKNOWN_REPORTS = "rows name reports that are not in the input"  # what a KeyError says of reports linking was not given


def components(items: list[int], pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Connected components; each item is labelled with the smallest item of its component."""
    index = {item: i for i, item in enumerate(items)}
    edges = np.array([(index[a], index[b]) for a, b in pairs], dtype=np.int64).reshape(-1, 2)
    smallest = smallest_in_components(len(items), edges[:, 0], edges[:, 1], np.array(items, dtype=np.int64))
    return dict(zip(items, smallest.tolist(), strict=True))


def discount(weight: float, holders: int, cap: int) -> float:
    """Full weight for a value held by up to 3 accounts (one person's), falling to 0 at the cap."""
    if holders <= 3 or cap <= 3:
        return weight
    return weight * max(0.0, 1.0 - math.log(holders - 2) / math.log(max(cap - 1, 2)))


class Nodes:
    """Reports → nodes (one per ESP account, or per report without one), over the reports sorted: a report's
    position, and each position's node as the smallest report on its account."""

    def __init__(self, reports: np.ndarray, node_at: np.ndarray) -> None:
        self.reports = reports  # sorted, distinct
        self.node_at = node_at  # position → position of its node
        self.count = len(reports)

    def at(self, report_ids: np.ndarray) -> np.ndarray:
        """Positions of these reports."""
        return positions_in(self.reports, report_ids, UNKNOWN_REPORTS)

    def node_ids(self, positions: np.ndarray) -> np.ndarray:
        """The node (its smallest report) of each position."""
        return np.asarray(self.reports[self.node_at[positions]])

    def node_positions(self, report_ids: Sequence[int]) -> np.ndarray:
        """The position of each report's node."""
        return np.asarray(self.node_at[self.at(np.array(report_ids, dtype=np.int64))])


def account_nodes(rows: IdentityRows, reports: list[int]) -> tuple[Nodes, np.ndarray, np.ndarray]:
    """Step 1: reports on one ESP account are one node → (nodes, each row's report position, account rows' mask)."""
    sorted_reports = sorted_distinct(np.asarray(reports, dtype=np.int64))
    n = len(sorted_reports)
    at = positions_in(sorted_reports, rows.report_ids, UNKNOWN_REPORTS)
    account = rows.is_kind(ACCOUNT_KEYS)
    # a vertex per report and one per value; an account row joins its report to its value. The smallest position in
    # a component is its smallest report's: reports are sorted
    node_at = smallest_in_components(
        n + rows.distinct, at[account], n + rows.value_ids[account].astype(np.int64), np.arange(n)
    )
    return Nodes(sorted_reports, node_at), at, account


def resolve_suspects(
    data: LinkInput, settings: LinkSettings, model: LinkModel | None = None, ties: list[tuple[int, int]] | None = None
) -> Clustering:
    """Reports → suspects, weighed by `model` (measured on `data` when None: the clustering says what it used).
    `ties`, when given, receives every pair of accounts judged (`link.locality`): whatever joined or not."""
    # 1. one ESP account, one node (the account kinds come from the registry: `ACCOUNT_KEYS`)
    rows = IdentityRows.of(data.identity)
    nodes, at, account = account_nodes(rows, data.reports)
    n, reports = nodes.count, nodes.reports

    # 2. values nodes share (each distinct value and node once, vectorised: most values are held by one node)
    counted = rows.is_kind(set(settings.weights) - ACCOUNT_KEYS)
    held_values, held_at, starts, holders = distinct_pairs(rows.value_ids[counted], nodes.node_at[at[counted]], n)
    vouched = vouched_pairs(rows, data.verified, nodes)
    suppressed = list(data.suppressed)
    widely = [code for value in data.too_widely_held if (code := rows.code_of(*value)) is not None]
    runs = (held_values, held_at, starts, holders)
    best = strongest_shared(rows, reports, runs, vouched, settings, suppressed, np.array(widely, dtype=np.int64))
    shared = np.flatnonzero(holders > 1)
    del vouched  # each step lets go of what it alone needed: at 1 M reports the steps' leftovers added up to ~500 MB

    # 3. names for or against, weighed by their frequency; a rare name compares accounts sharing nothing else
    stats, by_rare_name = name_stats(data, nodes, settings, model.names if model else None)
    for pair in rare_name_pairs(data, nodes, by_rare_name, stats, settings):
        best.setdefault(pair, {})  # a candidate pair, with no shared value yet
    if ties is not None:
        ties.extend(best)
    # 4. kinds both show and share none of (m measured on the store's sure pairs, u on its value frequencies)
    candidates = sorted_distinct(np.array([node for pair in best for node in pair], dtype=np.int64))
    held_kinds = rows.kind_ids[held_values] if len(held_values) else held_values
    agreeing = rows.kind_mask(settings.agreement_m)[held_kinds]
    shown = shown_values(rows, held_values[agreeing], held_at[agreeing], nodes, candidates)
    accounts_with = {  # kind → the nodes showing a value of it
        kind: int(sorted_distinct(held_at[agreeing & (held_kinds == code)]).size)
        for code, kind in enumerate(rows.kinds)
        if kind in settings.agreement_m
    }
    shared_kinds = [rows.kinds[code] for code in held_kinds[starts[shared]].tolist()]
    frequencies = list(zip(shared_kinds, holders[shared].tolist(), strict=True))  # (kind, holders) of shared values
    del held_values, held_at, held_kinds, agreeing, starts, holders, shared, counted
    if model is None:
        nothing: dict[str, list[str]] = {}
        measured = measure_agreement(
            (
                ({kind: w for kind, (w, _) in kinds.items()}, shown.get(a, nothing), shown.get(b, nothing))
                for (a, b), kinds in best.items()
            ),
            settings,
        )
        against: Mapping[str, Disagreement] = estimate_disagreements(accounts_with, frequencies, settings, measured)
    else:
        against = model.disagreements
    del accounts_with, frequencies
    links: list[Link] = []
    people = node_people(data, nodes, candidates)
    nobody = Person()
    # contradictions only subtract: a pair whose values and names fall short is no link, whatever they say (the margin
    # stands for the order `pair_link` adds in, which moves a sum by far less)
    short = settings.threshold - 1e-6
    for (a, b), kinds in best.items():
        named = judge(people.get(a, nobody), people.get(b, nobody), stats, settings)
        if sum(weight for weight, _ in kinds.values()) + (named[0] if named else 0.0) < short:
            continue
        made = pair_link(a, b, kinds, named, settings, contradictions(shown.get(a, {}), shown.get(b, {}), against))
        if made is not None:
            links.append(made)
    del best, people

    # 5. suspects: the strongest links first, two groups of accounts joining unless the groups as wholes contradict
    joined, links = join_groups(links, shown, against, settings)
    del shown
    node_ids = nodes.node_ids(np.arange(n)).tolist()
    label_of = {report: joined.get(node, node) for report, node in zip(reports.tolist(), node_ids, strict=True)}
    links.extend(account_links(rows, at, account, reports))
    return Clustering(label_of, links, suppressed, LinkModel(stats, against))


def strongest_shared(
    rows: IdentityRows,
    reports: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    vouched: np.ndarray,
    settings: LinkSettings,
    suppressed: list[Suppressed],
    too_widely_held: np.ndarray | None = None,
) -> dict[tuple[int, int], dict[str, tuple[float, str]]]:
    """Step 2: the values nodes share (`runs`: `distinct_pairs` of the counted rows, each value's holders a run) →
    node pair → kind → the strongest value of that kind the pair shares (weight, key; between equals the smallest
    key), pairs in the order a loop over the values and their holders meets them. A value held above its kind's cap
    is suppressed instead (appended to `suppressed`, in value order); so is each of `too_widely_held` (value codes
    the whole store holds above the cap, where these rows are a part of it: its record is the store's, not made here).

    Every pair of a value's holders is made by NumPy, a block per holder count (most values are held by two): a
    Python step per pair and value cost ~0.2 of each second suspects took. Weights come from `discount` itself, once
    per kind and count, so they are the same floats as a value-by-value loop gives."""
    held_values, held_at, starts, holders = runs
    n = len(reports)
    best: dict[tuple[int, int], dict[str, tuple[float, str]]] = {}
    shared = np.flatnonzero(holders > 1)
    values, counts, first = held_values[starts[shared]], holders[shared], starts[shared]
    kind_of = rows.kind_ids[values] if len(values) else values
    caps = kind_caps(rows, settings)[kind_of]
    over = counts > caps
    widely = np.isin(values, too_widely_held) if too_widely_held is not None else np.zeros_like(over)
    recorded = over & ~widely
    for value, count, cap in zip(
        values[recorded].tolist(), counts[recorded].tolist(), caps[recorded].tolist(), strict=True
    ):
        suppressed.append(over_cap(*rows.value(value), count, cap))
    kept = np.flatnonzero(~(over | widely))
    if not len(kept):
        return best
    values, counts, first, kind_of = values[kept], counts[kept], first[kept], kind_of[kept]
    # one weight per (kind, holders): `discount` as the loop called it
    classes, class_of = np.unique(kind_of * (int(counts.max()) + 1) + counts, return_inverse=True)
    class_kinds, class_counts = np.divmod(classes, int(counts.max()) + 1)
    class_weights = np.array(
        [
            discount(settings.weights[rows.kinds[kind]], count, settings.caps.get(rows.kinds[kind], 10))
            for kind, count in zip(class_kinds.tolist(), class_counts.tolist(), strict=True)
        ]
    )
    weights = class_weights[class_of.reshape(-1)]
    # every pair (i < j) of each value's holders: rows into the held arrays, and when a loop would meet it
    left_parts, right_parts, run_parts, step_parts = [], [], [], []
    for count in np.unique(counts).tolist():
        these = np.flatnonzero(counts == count)
        i, j = np.triu_indices(count, 1)
        left_parts.append((first[these][:, None] + i).ravel())
        right_parts.append((first[these][:, None] + j).ravel())
        run_parts.append(np.repeat(these, len(i)))
        step_parts.append(np.tile(np.arange(len(i)), len(these)))
    left, right, run = np.concatenate(left_parts), np.concatenate(right_parts), np.concatenate(run_parts)
    met = run * int(counts.max()) ** 2 + np.concatenate(step_parts)  # the loop goes value by value, i then j
    pair = held_at[left] * n + held_at[right]
    both_sure = held_in(vouched, held_values[left] * n + held_at[left]) & held_in(
        vouched, held_values[right] * n + held_at[right]
    )
    weight = weights[run] + np.where(both_sure, settings.verified_bonus, 0.0)
    del left, right, left_parts, right_parts, run_parts, step_parts, both_sure
    # per (pair, kind) the strongest row first: a group's head
    ranked = np.lexsort((-weight, kind_of[run], pair))
    pair, weight, run, met = pair[ranked], weight[ranked], run[ranked], met[ranked]
    kind = kind_of[run]
    group = np.r_[True, (pair[1:] != pair[:-1]) | (kind[1:] != kind[:-1])]
    heads = np.flatnonzero(group)
    winners = run[heads]
    # between equally strong values of a kind, the smallest key (few: settled in Python)
    tied = np.flatnonzero(~group[1:] & (weight[1:] == weight[:-1])) + 1
    if len(tied):
        group_of = np.cumsum(group) - 1
        for at in np.unique(group_of[tied]).tolist():
            start = end = int(heads[at])
            while end < len(run) and group_of[end] == at and weight[end] == weight[start]:
                end += 1
            winners[at] = min(run[start:end].tolist(), key=lambda r: rows.value(int(values[r]))[1])
    # pairs in the order the loop first met them, each pair's kinds in the order it met them
    kind_met = np.minimum.reduceat(met, heads)
    pair_starts = np.flatnonzero(np.r_[True, pair[heads][1:] != pair[heads][:-1]])
    pair_met = np.repeat(np.minimum.reduceat(kind_met, pair_starts), np.diff(np.r_[pair_starts, len(heads)]))
    emitted = np.lexsort((kind_met, pair_met))
    a_at, b_at = np.divmod(pair[heads][emitted], n)
    found = zip(
        reports[a_at].tolist(),
        reports[b_at].tolist(),
        values[winners[emitted]].tolist(),
        weight[heads][emitted].tolist(),
        strict=True,
    )
    for a, b, value, w in found:
        kind_name, key = rows.value(value)
        best.setdefault((a, b), {})[kind_name] = (w, key)
    return best


def kind_caps(rows: IdentityRows, settings: LinkSettings) -> np.ndarray:
    """Each kind code's cap: a value held by more distinct accounts says nothing (10 where the settings name none)."""
    return np.array([settings.caps.get(kind, 10) for kind in rows.kinds] or [10], dtype=np.int64)


def vouched_pairs(rows: IdentityRows, verified: Iterable[tuple[int, str, str]], nodes: Nodes) -> np.ndarray:
    """The (value, node) pairs an ESP verified, as `value * reports + node position`, sorted and each once."""
    verified = IdentityRows.of(verified)
    codes = rows.codes_in(verified)[verified.value_ids]
    held = codes >= 0
    return sorted_distinct(codes[held] * nodes.count + nodes.node_at[nodes.at(verified.report_ids[held])])


def held_in(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each of `values` is in `ordered` (sorted, distinct): a binary search each."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def shown_values(
    rows: IdentityRows, values: np.ndarray, positions: np.ndarray, nodes: Nodes, candidates: np.ndarray
) -> dict[int, dict[str, list[str]]]:
    """Each candidate node's values of the kinds whose disagreement is weighed: node → kind → keys."""
    shown: dict[int, dict[str, list[str]]] = {}  # lists: each (value, node) comes once, and a set per node cost more
    wanted = np.isin(nodes.reports[positions], candidates)
    for value, node in zip(values[wanted].tolist(), nodes.reports[positions[wanted]].tolist(), strict=True):
        kind, key = rows.value(value)
        shown.setdefault(node, {}).setdefault(kind, []).append(key)
    return shown


def name_stats(
    data: LinkInput, nodes: Nodes, settings: LinkSettings, measured: NameStats | None = None
) -> tuple[NameStats, dict[Name, list[int]]]:
    """The store's name and age frequencies over nodes (`link.names.measure`, counted without a `Person` per node),
    or those `measured` before, and the nodes holding each name rare by them."""
    code_of: dict[Name, int] = {}
    named_reports, name_codes = array("q"), array("q")
    for report, found in data.names.items():
        for name in found:
            named_reports.append(report)
            name_codes.append(code_of.setdefault(name, len(code_of)))
    names = list(code_of)
    values, positions, starts, counts = distinct_pairs(
        np.frombuffer(name_codes, dtype=np.int64), nodes.node_positions(named_reports), nodes.count
    )
    stats = measured or measure_names(data, nodes, settings, names, (values, positions, starts, counts))
    wanted = rare_names(stats, settings)
    rare: dict[Name, list[int]] = {}
    for start, count, code in zip(starts.tolist(), counts.tolist(), values[starts].tolist(), strict=True):
        if names[code] in wanted:
            rare[names[code]] = nodes.reports[positions[start : start + count]].tolist()
    return stats, rare


def measure_names(
    data: LinkInput,
    nodes: Nodes,
    settings: LinkSettings,
    names: list[Name],
    runs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> NameStats:
    """`name_stats`' measuring: holders per name shared by two accounts or more, named accounts, an age's bits."""
    values, positions, starts, counts = runs
    # a name one account holds is no pair's: only names two accounts share are looked up (`judge`, `rare_names`)
    twice = counts > 1
    holders = dict(zip((names[code] for code in values[starts[twice]].tolist()), counts[twice].tolist(), strict=True))
    aged_reports = [report for report, ages in data.ages.items() for _ in ages]
    ages = np.array([age for stated in data.ages.values() for age in stated], dtype=np.int64)
    lowest = int(ages.min()) if len(ages) else 0
    age_values, _, age_starts, age_counts = distinct_pairs(
        ages - lowest, nodes.node_positions(aged_reports), nodes.count
    )
    by_age = dict(zip((age_values[age_starts] + lowest).tolist(), age_counts.tolist(), strict=True))
    return NameStats(holders, int(sorted_distinct(positions).size), age_weight(by_age, settings))


def rare_name_pairs(
    data: LinkInput, nodes: Nodes, by_rare_name: Mapping[Name, list[int]], stats: NameStats, settings: LinkSettings
) -> Iterator[tuple[int, int]]:
    """The pairs of a rare name's holders (in name order, then holder order) that the name can join: all of them
    where the name alone can reach the threshold, else only those whose stated ages or dates of birth agree.

    A pair that shares nothing but the name scores the name's bits (at most `name_bound`), the age's bits when the
    ages agree, and contradictions (never more than 0): below the threshold it is nobody's link, and it is no sure
    pair either (`measure_agreement` counts only pairs with shared values). At 1 M reports two of every three of the
    ~570,000 pairs of rare names' holders stated ages that disagree, and judging each cost more than a quarter of
    suspects' time."""
    if settings.name_bound >= settings.threshold:  # the name alone may join: every pair is a candidate
        for name in sorted(by_rare_name):
            ordered = by_rare_name[name]
            yield from ((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
        return
    if settings.name_bound + stats.age_bits < settings.threshold:  # nor with an agreeing age
        return
    holders = sorted_distinct(np.fromiter((n for found in by_rare_name.values() for n in found), dtype=np.int64))
    ages, born = on_nodes(data.ages, nodes, holders), on_nodes(data.born, nodes, holders)
    tolerance = settings.age_tolerance
    for name in sorted(by_rare_name):
        ordered = by_rare_name[name]
        for i, a in enumerate(ordered):
            a_ages, a_born = ages.get(a, ()), born.get(a, ())
            for b in ordered[i + 1 :]:
                if ages_meet(a_ages, a_born, ages.get(b, ()), born.get(b, ()), tolerance):
                    yield a, b


def account_links(rows: IdentityRows, at: np.ndarray, account: np.ndarray, reports: np.ndarray) -> list[Link]:
    """Reports on one ESP account: one explanation per account (its first and last report, and how many), in the
    order the accounts were first seen."""
    values, positions, starts, counts = distinct_pairs(rows.value_ids[account], at[account], len(reports))
    made = []
    for start, count, value in zip(starts.tolist(), counts.tolist(), values[starts].tolist(), strict=True):
        if count > 1:
            kind, key = rows.value(value)
            first, last = reports[positions[start]], reports[positions[start + count - 1]]
            made.append(account_link(kind, key, int(first), int(last), count))
    return made


def join_groups(
    links: list[Link],
    shown: Mapping[int, Mapping[str, Collection[str]]],
    against: Mapping[str, Disagreement],
    settings: LinkSettings,
) -> tuple[dict[int, int], list[Link]]:
    """Accounts joined through links, strongest first: each link joins the two groups its accounts are in unless
    the groups, taken whole, show a kind and share none of it that the two accounts alone did not (a relative's
    mailbox on an account that shows no phone, when each side's other accounts show phones of their own): the link's
    score with those disagreements added must still reach the threshold. Without such disagreements this is
    connected components. → (node → smallest node of its group, for the nodes in links; the links within a group).

    An account alone is its own group and shows only its own values: a link between two of them has been weighed
    whole already (every link reaches the threshold), so only a group of two or more holds a union of values of its
    own. At 1 M reports most joins are of two lone accounts, and a set per account and kind made for each of them
    was most of this step."""
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}  # each group of two or more, by its root: its accounts
    values: dict[int, dict[str, set[str]]] = {}  # a group's accounts' values, made when a join first weighs them
    nothing: dict[str, Collection[str]] = {}

    def root(node: int) -> int:
        if node not in parent:
            parent[node] = node
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def values_of(group: int) -> Mapping[str, Collection[str]]:
        if group not in members:
            return shown.get(group, nothing)
        if group not in values:
            union: dict[str, set[str]] = {}
            for node in members[group]:
                for kind, found in shown.get(node, nothing).items():
                    union.setdefault(kind, set()).update(found)
            values[group] = union
        return values[group]

    def size(group: int) -> int:
        return sum(map(len, values_of(group).values()))

    for link in sorted(links, key=lambda made: (-made.score, made.a, made.b)):
        a, b = root(link.a), root(link.b)
        if a == b:
            continue
        if a in members or b in members:  # a group's other accounts may show what these two did not
            counted = contradictions(shown.get(link.a, nothing), shown.get(link.b, nothing), against)
            wider = contradictions(values_of(a), values_of(b), against)
            if link.score + sum(d.bits for kind, d in wider.items() if kind not in counted) < settings.threshold:
                continue
        small, large = sorted((a, b), key=lambda n: (size(n), n))
        parent[small] = large
        if large in values:  # a union made already grows (the next join weighs it again); else it waits
            for kind, found in values_of(small).items():
                values[large].setdefault(kind, set()).update(found)
        values.pop(small, None)
        joined = members.pop(large, [large])
        joined.extend(members.pop(small, [small]))
        members[large] = joined
    groups: dict[int, list[int]] = defaultdict(list)
    for node in list(parent):
        groups[root(node)].append(node)
    label = {node: min(members) for members in groups.values() for node in members}
    return label, [link for link in links if label[link.a] == label[link.b]]


def node_people(data: LinkInput, nodes: Nodes, wanted: np.ndarray) -> dict[int, Person]:
    """What the wanted nodes' reports say about the reported person: names, stated ages, dates of birth. A node of one
    report holds that report's own tuples (no copy): at 1 M reports ~430,000 nodes are candidates, and a set per node
    and field made this the largest step of linking (+720 MB)."""
    names = on_nodes(data.names, nodes, wanted)
    ages = on_nodes(data.ages, nodes, wanted)
    born = on_nodes(data.born, nodes, wanted)
    held = list(names.keys() | ages.keys() | born.keys())
    none = repeat(())
    return dict(
        zip(
            held,
            map(Person, map(names.get, held, none), map(ages.get, held, none), map(born.get, held, none)),
            strict=True,
        )
    )


def on_nodes(found: Mapping[int, Collection[T]], nodes: Nodes, wanted: np.ndarray) -> dict[int, Collection[T]]:
    """Per report → per wanted node: its reports' values, each once. Reports on one account mostly repeat what the
    account's other reports say, as the very same tuple (`link.extract` keeps one per distinct tuple)."""
    report_ids = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    node_ids = nodes.node_ids(nodes.at(report_ids))
    keep = np.isin(node_ids, wanted)
    union: dict[int, Collection[T]] = {}
    for report, node in zip(report_ids[keep].tolist(), node_ids[keep].tolist(), strict=True):
        values, held = found[report], union.get(node)
        if held is None:
            union[node] = values
        elif values is not held and not set(values) <= set(held):
            union[node] = tuple(dict.fromkeys((*held, *values)))
    return union


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
