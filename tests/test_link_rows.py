"""Linking's input held as columns (issue 15: 1 M reports' identity rows in a fraction of the memory) reads as the
list of tuples it replaced, and grouping over the columns does not depend on the order the rows came in."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.link.columns import FileRows, IdentityRows, ReportKeys, distinct_pairs, labeller, sorted_distinct
from tipfusion.link.evidence import Disagreement, contradictions
from tipfusion.link.extract import PRIOR_REPORT, load_input
from tipfusion.link.records import Link, LinkInput, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import (
    account_nodes,
    discount,
    join_groups,
    over_cap,
    resolve_suspects,
    strongest_shared,
    vouched_pairs,
)
from tipfusion.normalise.registry import ACCOUNT_KEYS
from tipfusion.store.db import snapshot

KINDS = ("esp_user", "phone", "email", "device", "prior_report", "display_name")
rows_strategy = st.lists(
    st.tuples(st.integers(1, 12), st.sampled_from(KINDS), st.sampled_from(("a", "b", "c", "+919811012345"))),
    max_size=60,
)


@given(rows_strategy, st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(("a", "b", "zz"))), max_size=4))
def test_identity_rows_read_as_the_list_of_tuples_they_hold(
    rows: list[tuple[int, str, str]], values: list[tuple[str, str]]
) -> None:
    held = IdentityRows(rows[: len(rows) // 2])
    held += rows[len(rows) // 2 :]
    assert list(held) == rows and len(held) == len(rows) and held == rows
    assert all(row in held for row in rows) and (99, "phone", "a") not in held
    assert held.distinct == len({(kind, key) for _, kind, key in rows})
    assert [held.value(int(code)) for code in held.value_ids] == [(kind, key) for _, kind, key in rows]
    assert held.report_ids.tolist() == [report for report, _, _ in rows]
    assert held.is_kind({"phone", "email"}).tolist() == [kind in {"phone", "email"} for _, kind, _ in rows]
    assert list(held.of_kinds({"phone"})) == [row for row in rows if row[1] == "phone"]
    assert list(held.holding(values)) == [row for row in rows if row[1:] in values]
    assert list(held.without(values)) == [row for row in rows if row[1:] not in values]
    assert IdentityRows.of(held) is held


@given(rows_strategy, st.lists(st.booleans(), min_size=60, max_size=60), rows_strategy)
def test_rows_loaded_as_the_database_sorted_them_are_coded_in_the_order_first_seen(
    rows: list[tuple[int, str, str]], verified: list[bool], earlier: list[tuple[int, str, str]]
) -> None:
    """`load` is where every value gets its code (extract's loop over millions of rows): the rows read back as given,
    each distinct (kind, key) coded in the order first seen, its kind likewise, and the verified ones in both."""
    loaded, loaded_verified = IdentityRows(earlier), IdentityRows()
    flagged = list(zip(rows, verified, strict=False))
    loaded.load(((*row, flag) for row, flag in flagged), loaded_verified)
    everything = earlier + rows
    values = list(dict.fromkeys((kind, key) for _, kind, key in everything))
    kinds = list(dict.fromkeys(kind for kind, _ in values))
    assert loaded == everything and loaded_verified == [row for row, flag in flagged if flag]
    assert loaded.value_ids.tolist() == [values.index((kind, key)) for _, kind, key in everything]
    assert loaded.kinds == kinds and loaded.kind_ids.tolist() == [kinds.index(kind) for kind, _ in values]
    if any(verified[: len(rows)]):
        with pytest.raises(ValueError, match="verified rows"):
            IdentityRows().load(((*row, flag) for row, flag in flagged))


@given(
    st.lists(st.tuples(st.integers(1, 9), st.sampled_from(("g/1", "g/2", "md5:a", "x")), st.booleans()), max_size=40),
    st.dictionaries(st.integers(1, 9), st.integers(1, 4), min_size=9, max_size=9),
)
def test_report_keys_read_as_their_pairs_and_group_by_who_holds_each_key(
    rows: list[tuple[int, str, bool]], suspect_of: dict[int, int]
) -> None:
    pairs = [(report, key) for report, key, _ in rows]
    files, keys = FileRows(rows), ReportKeys(pairs[:3])
    keys += pairs[3:]
    assert list(files) == rows and files == rows and len(files) == len(rows)
    assert list(keys) == pairs and keys == pairs and ReportKeys.of(keys) is keys
    assert files.flagged_keys() == {key for _, key, flagged in rows if flagged}
    assert list(files.without({"md5:a", "zz"})) == [row for row in rows if row[1] != "md5:a"]
    assert list(keys.without({"g/1"})) == [row for row in pairs if row[1] != "g/1"] and keys.without({"zz"}) is keys
    holders: dict[str, set[int]] = {}
    for report, key in pairs:
        holders.setdefault(key, set()).add(suspect_of[report])
    shared = [(key, sorted(held)) for key, held in holders.items() if len(held) > 1]  # in the order first seen
    assert list(keys.held(labeller(suspect_of))) == shared == list(files.held(labeller(suspect_of)))


def test_a_report_linking_knows_nothing_of_is_named_not_looked_up_as_another() -> None:
    label = labeller({10: 1, 30: 3})
    assert label(np.array([30, 10])).tolist() == [3, 1]
    for unknown in ([20], [31], [5, 10]):
        with pytest.raises(KeyError, match=f"reports without a label: \\[{unknown[0]}\\]"):
            label(np.array(unknown))
    with pytest.raises(KeyError, match="not in the input: \\[7\\]"):
        resolve_suspects(LinkInput([1, 2], [(7, "phone", "+919811012345")]), LinkSettings())


@settings(max_examples=60)
@given(st.lists(st.integers(-(2**62), 2**62), max_size=80), st.integers(1, 4))
def test_distinct_values_found_by_sorting_are_numpys(values: list[int], copies: int) -> None:
    """`sorted_distinct` stands in for a plain `np.unique` (NumPy's hash path was ten times slower on linking's
    codes): the same values, sorted, each once, whatever repeats and signs it is given."""
    given_values = np.array(values * copies, dtype=np.int64)
    found = sorted_distinct(given_values)
    assert found.dtype == np.int64 and found.tolist() == np.unique(given_values).tolist()


@given(rows_strategy, st.randoms(use_true_random=False))
def test_suspects_do_not_depend_on_the_order_of_the_rows(
    rows: list[tuple[int, str, str]], shuffle: random.Random
) -> None:
    reports = sorted({report for report, _, _ in rows} | {1, 2})
    names = {report: {("asha", "rao")} for report in reports if report % 3 == 0}
    ages = {report: {30 + report % 2} for report in reports if report % 2 == 0}
    verified = {row for row in rows if row[0] % 4 == 0}
    shuffled = list(rows)
    shuffle.shuffle(shuffled)
    one = resolve_suspects(LinkInput(reports, rows, names=names, ages=ages, verified=verified), LinkSettings())
    other = resolve_suspects(
        LinkInput(list(reversed(reports)), shuffled, names=names, ages=ages, verified=verified), LinkSettings()
    )
    assert one.label_of == other.label_of
    assert sorted(map(repr, one.links)) == sorted(map(repr, other.links))
    assert sorted(map(repr, one.suppressed)) == sorted(map(repr, other.suppressed))


def test_a_report_number_nothing_cites_is_not_held_and_changes_nothing(engine: Engine, synthetic_batch: Path) -> None:
    """Every report is a value of its own number so that a later report citing it meets it; one nothing cites is
    evidence of nothing, so the input holds it only where something does, and linking comes out as with all of them."""
    IngestService(engine, Settings(database_url=str(engine.url)), "tester").ingest_paths([synthetic_batch])
    with snapshot(engine) as conn:
        data = load_input(conn)
    cited = [row for row in data.identity if row[1] == PRIOR_REPORT]
    holders: dict[str, int] = {}
    for _, _, key in cited:
        holders[key] = holders.get(key, 0) + 1
    assert holders and min(holders.values()) >= 2  # each number held is held by its own report and a citing one
    everything = LinkInput(
        data.reports,
        list(data.identity) + [(r, PRIOR_REPORT, str(r)) for r in data.reports if str(r) not in holders],
        names=data.names,
        ages=data.ages,
        born=data.born,
        verified=data.verified,
    )
    assert len(everything.identity) > len(data.identity)
    with_all, held = resolve_suspects(everything, LinkSettings()), resolve_suspects(data, LinkSettings())
    assert with_all.label_of == held.label_of
    assert sorted(map(repr, with_all.links)) == sorted(map(repr, held.links))


def strongest_by_loop(
    rows: IdentityRows,
    reports: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    vouched: set[int],
    settings: LinkSettings,
    suppressed: list[Suppressed],
) -> dict[tuple[int, int], dict[str, tuple[float, str]]]:
    """The value-by-value loop `strongest_shared` replaced (as linking ran it until stop 37): its reference."""
    held_values, held_at, starts, holders = runs
    n = len(reports)
    best: dict[tuple[int, int], dict[str, tuple[float, str]]] = defaultdict(dict)
    shared = np.flatnonzero(holders > 1)
    for start, count, value in zip(
        starts[shared].tolist(), holders[shared].tolist(), held_values[starts[shared]].tolist(), strict=True
    ):
        kind, key = rows.value(value)
        cap = settings.caps.get(kind, 10)
        if count > cap:
            suppressed.append(over_cap(kind, key, count, cap))
            continue
        weight = discount(settings.weights[kind], count, cap)
        positions = held_at[start : start + count].tolist()
        ordered = reports[held_at[start : start + count]].tolist()
        sure = {node for node, p in zip(ordered, positions, strict=True) if value * n + p in vouched}
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pair_weight = weight + (settings.verified_bonus if a in sure and b in sure else 0.0)
                current = best[(a, b)].get(kind)
                if current is None or (pair_weight, current[1]) > (current[0], key):
                    best[(a, b)][kind] = (pair_weight, key)
    return dict(best)


SHARED_KINDS = ("phone", "email", "device", "display_name", "url")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 8), st.sampled_from(SHARED_KINDS), st.sampled_from(("d", "a", "c", "b"))),
        max_size=90,
    ),
    st.lists(st.tuples(st.integers(1, 8), st.sampled_from(("u1", "u2", "u3"))), max_size=6),
    st.lists(st.booleans(), max_size=90),
    st.dictionaries(st.sampled_from(SHARED_KINDS), st.integers(2, 6)),
)
def test_each_pair_s_strongest_shared_value_is_what_the_value_by_value_loop_found(
    values: list[tuple[int, str, str]],
    accounts: list[tuple[int, str]],
    verifying: list[bool],
    caps: dict[str, int],
) -> None:
    """Pairs, their kinds, weights (verified bonus included), the smallest key between equally strong values, the
    suppressed values over a cap, and the order of each (the loop's): as the loop that made them one by one."""
    linking = replace(LinkSettings(), caps={**LinkSettings().caps, **caps})
    identity = [(report, "esp_user", f"esp/{account}") for report, account in accounts] + values
    verified = [value for value, verifies in zip(values, verifying, strict=False) if verifies]  # the ESP's word
    data = LinkInput(list(range(1, 9)), identity, verified=verified)
    rows = IdentityRows.of(data.identity)
    nodes, at, _ = account_nodes(rows, data.reports)
    counted = rows.is_kind(set(linking.weights) - ACCOUNT_KEYS)
    runs = distinct_pairs(rows.value_ids[counted], nodes.node_at[at[counted]], nodes.count)
    vouched = vouched_pairs(rows, data.verified, nodes)
    by_loop: list[Suppressed] = []
    expected = strongest_by_loop(rows, nodes.reports, runs, set(vouched.tolist()), linking, by_loop)
    found: list[Suppressed] = []
    made = strongest_shared(rows, nodes.reports, runs, vouched, linking, found)
    assert [(pair, list(kinds.items())) for pair, kinds in made.items()] == [
        (pair, list(kinds.items())) for pair, kinds in expected.items()
    ]
    assert found == by_loop


def test_between_equally_strong_values_of_a_kind_the_smallest_key_explains_the_pair() -> None:
    """Two phones both accounts hold, the larger key seen first: the pair is explained by the smaller one; a phone
    the ESP verified on both sides is stronger than either, whatever its key."""
    rows = IdentityRows.of([(r, "phone", key) for key in ("+449", "+441") for r in (1, 2)])
    nodes, at, _ = account_nodes(rows, [1, 2])
    runs = distinct_pairs(rows.value_ids, nodes.node_at[at], nodes.count)
    made = strongest_shared(rows, nodes.reports, runs, np.array([], dtype=np.int64), LinkSettings(), [])
    assert made == {(1, 2): {"phone": (LinkSettings().weights["phone"], "+441")}}
    vouched = vouched_pairs(rows, IdentityRows.of([(1, "phone", "+449"), (2, "phone", "+449")]), nodes)
    made = strongest_shared(rows, nodes.reports, runs, vouched, LinkSettings(), [])
    weight = LinkSettings().weights["phone"] + LinkSettings().verified_bonus
    assert made == {(1, 2): {"phone": (weight, "+449")}}


def groups_by_copying(
    links: list[Link],
    shown: dict[int, dict[str, list[str]]],
    against: dict[str, Disagreement],
    settings: LinkSettings,
) -> tuple[dict[int, int], list[Link]]:
    """`join_groups` as it was written first: every account its own copy of its values, every join weighed whole."""
    parent: dict[int, int] = {}
    values: dict[int, dict[str, set[str]]] = {}

    def root(node: int) -> int:
        if node not in parent:
            parent[node] = node
            values[node] = {kind: set(found) for kind, found in shown.get(node, {}).items()}
        while parent[node] != node:
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


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 14), st.integers(1, 14), st.floats(6.0, 12.0)), max_size=40),
    st.dictionaries(
        st.integers(1, 14),
        st.dictionaries(
            st.sampled_from(("phone", "device")),
            st.lists(st.sampled_from("abcde"), min_size=1, max_size=3, unique=True),
        ),
    ),
    st.floats(-4.0, 0.0),
    st.floats(-4.0, 0.0),
)
@example(  # two groups of two whose unions were made join; the union kept holds both groups' values, not a root's
    [(1, 2, 12.0), (3, 4, 12.0), (2, 4, 9.0), (5, 4, 7.5)],
    {1: {"phone": ["b"]}, 2: {"device": ["c"]}, 3: {"phone": ["a"], "device": ["d"]}, 5: {"phone": ["b"]}},
    -2.5,
    -0.5,
)
def test_groups_join_as_when_every_account_held_a_copy_of_its_values(
    pairs: list[tuple[int, int, float]],
    shown: dict[int, dict[str, list[str]]],
    phone_bits: float,
    device_bits: float,
) -> None:
    """Lone accounts share their values instead of copying them, and a group's union is made when a join first
    weighs it: the groups, and the links kept, are the ones copying every account's values gave."""
    links = [Link(min(a, b), max(a, b), round(score, 3), ()) for a, b, score in pairs if a != b]
    against = {
        "phone": Disagreement("phone", 0.9, 0.01, round(phone_bits, 3)),
        "device": Disagreement("device", 0.8, 0.01, round(device_bits, 3)),
    }
    linking = LinkSettings()
    assert join_groups(links, shown, against, linking) == groups_by_copying(links, shown, against, linking)
