"""Real names as frequency-weighted corroboration, and an age agreeing with a name (issue 17 §1): a rare name and an
agreeing age join two accounts that share nothing else; a name alone, a common name, or ages apart never do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from unittest.mock import patch

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tipfusion.link.names import Name, NameStats, Person, age_weight, ages_agree, ages_meet, judge, measure, name_weight
from tipfusion.link.records import LinkInput
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import Nodes, resolve_suspects

SETTINGS = LinkSettings()
FIRSTS = ["asha", "ravi", "meena", "arjun", "divya", "kiran", "pooja", "sunil", "tara", "vikram"]
LASTS = ["rao", "iyer", "das", "gill", "nair", "shah", "bose", "jain", "roy", "sen"]


def store(pairs: dict[int, tuple[tuple[str, str], int | None]], crowd: int = 60) -> LinkInput:
    """Reports on accounts of their own (report n on account esp/n) with the given names and ages, beside a crowd of
    other named accounts (distinct names, ages spread over 18..60) that gives the store its frequencies."""
    names: dict[int, set[tuple[str, str]]] = {}
    ages: dict[int, set[int]] = {}
    for report, (name, age) in pairs.items():
        names[report] = {name}
        if age is not None:
            ages[report] = {age}
    for i in range(crowd):
        report = 1000 + i
        names[report] = {(FIRSTS[i % 10], f"{LASTS[i // 10 % 10]}{i}")}
        ages[report] = {18 + (i * 7) % 43}
    reports = sorted(names)
    identity = [(r, "esp_user", f"esp/{r}") for r in reports]
    return LinkInput(reports, identity, names=names, ages=ages)


def together(data: LinkInput, a: int, b: int, settings: LinkSettings = SETTINGS) -> bool:
    labels = resolve_suspects(data, settings).label_of
    return labels[a] == labels[b]


def test_a_rare_name_and_an_agreeing_age_join_accounts_that_share_nothing_else() -> None:
    data = store({1: (("nandini", "gera"), 31), 2: (("nandini", "gera"), 32)})
    clustering = resolve_suspects(data, SETTINGS)
    assert clustering.label_of[1] == clustering.label_of[2]
    (link,) = [link for link in clustering.links if {link.a, link.b} == {1, 2}]
    ((kind, words, bits),) = link.evidence
    assert kind == "name" and "held by 2 of 62 named accounts" in words and "ages 31 and 32" in words
    assert bits == link.score >= SETTINGS.threshold


def test_a_name_alone_however_rare_never_joins() -> None:
    assert SETTINGS.name_bound < SETTINGS.threshold
    assert not together(store({1: (("nandini", "gera"), None), 2: (("nandini", "gera"), 31)}), 1, 2)
    assert not together(store({1: (("nandini", "gera"), 31), 2: (("nandini", "gera"), 45)}), 1, 2)  # ages apart


def test_a_common_name_and_an_age_do_not_join() -> None:
    """A name many accounts give is worth what any shared name was (`same_name`) and is not compared on its own."""
    crowd = {n: (("rahul", "kumar"), 30 + n % 3) for n in range(1, SETTINGS.name_cap + 2)}
    data = store(crowd)
    assert not together(data, 1, 2)
    named = measure([Person(frozenset(data.names[r])) for r in data.reports], SETTINGS)
    assert name_weight(named.holders[("rahul", "kumar")], named.named, SETTINGS) <= SETTINGS.name_bound


def test_the_same_date_of_birth_agrees_whatever_the_ages() -> None:
    data = store({1: (("nandini", "gera"), None), 2: (("nandini", "gera"), None)})
    data.born.update({1: {"1993-04-02"}, 2: {"1993-04-02"}})
    assert together(data, 1, 2)


AGES = st.lists(st.integers(10, 90), max_size=3)
BORN = st.lists(st.sampled_from(["1990-01-01", "1991-06-30", "1995-12-31"]), max_size=2)


@given(AGES, BORN, AGES, BORN, st.integers(0, 3))
def test_what_the_ages_say_in_words_is_said_exactly_when_they_meet(
    ages: list[int], born: list[str], other_ages: list[int], other_born: list[str], years: int
) -> None:
    """The words a link shows (`ages_agree`) and the rule the rare names' pairs are chosen by (`ages_meet`) are one
    rule, the same either way round."""
    a, b = Person(ages=ages, born=born), Person(ages=other_ages, born=other_born)
    meet = ages_meet(ages, born, other_ages, other_born, years)
    assert meet == ages_meet(other_ages, other_born, ages, born, years)
    assert (ages_agree(a, b, years) is not None) == meet
    assert ages_agree(a, b, years) == ages_agree(b, a, years)


def test_different_names_still_weigh_against() -> None:
    a = Person(frozenset({("asha", "rao")}), frozenset({30}))
    b = Person(frozenset({("ravi", "iyer")}), frozenset({30}))
    stats = NameStats({("asha", "rao"): 1, ("ravi", "iyer"): 1}, 100, 3.0)
    assert judge(a, b, stats, SETTINGS) == (SETTINGS.different_name, "different names")
    assert judge(a, Person(), stats, SETTINGS) is None  # one side names nobody: the name says nothing


def test_an_age_weighs_by_how_spread_the_stores_ages_are() -> None:
    spread = age_weight(Counter(range(18, 61)), SETTINGS)
    assert 0 < spread <= SETTINGS.age_bound
    assert age_weight(Counter({30: 50}), SETTINGS) == 0.0  # everyone the same age: agreeing says nothing
    assert age_weight(Counter({30: 1}), SETTINGS) == 0.0


@given(st.integers(1, 500), st.integers(1, 5000))
def test_a_name_weighs_more_the_rarer_it_is_within_its_bounds(holders: int, named: int) -> None:
    weight = name_weight(holders, named, SETTINGS)
    assert SETTINGS.same_name <= weight <= SETTINGS.name_bound
    assert name_weight(holders + 1, named, SETTINGS) <= weight


@given(
    st.frozensets(st.sampled_from([("a", "b"), ("c", "d"), ("e", "f")]), max_size=2),
    st.frozensets(st.sampled_from([("a", "b"), ("c", "d"), ("e", "f")]), max_size=2),
    st.frozensets(st.integers(18, 25), max_size=2),
    st.frozensets(st.integers(18, 25), max_size=2),
)
def test_judging_names_is_symmetric_and_bounded(
    names_a: frozenset[tuple[str, str]],
    names_b: frozenset[tuple[str, str]],
    ages_a: frozenset[int],
    ages_b: frozenset[int],
) -> None:
    stats = NameStats({("a", "b"): 2, ("c", "d"): 5, ("e", "f"): 40}, 200, 2.5)
    a, b = Person(names_a, ages_a), Person(names_b, ages_b)
    verdict = judge(a, b, stats, SETTINGS)
    assert verdict == judge(b, a, stats, SETTINGS)
    if verdict is not None:
        assert SETTINGS.different_name <= verdict[0] <= SETTINGS.name_bound + stats.age_bits


def every_rare_name_pair(
    _data: LinkInput, _nodes: Nodes, by_rare_name: Mapping[Name, list[int]], _stats: NameStats, _settings: LinkSettings
) -> Iterator[tuple[int, int]]:
    """Every pair of a rare name's holders, as linking compared them until stop 37: the reference."""
    for name in sorted(by_rare_name):
        ordered = by_rare_name[name]
        yield from ((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.integers(1, 12),
        st.tuples(
            st.lists(st.tuples(st.sampled_from(FIRSTS[:2]), st.sampled_from(LASTS[:2])), min_size=1, max_size=2),
            st.lists(st.integers(30, 34), max_size=2),
            st.lists(st.sampled_from(["1990-01-01", "1991-02-02"]), max_size=1),
            st.lists(st.sampled_from(["+447700900001", "+447700900002", "+447700900003"]), max_size=2),
            st.sampled_from(["esp/1", "esp/2", "esp/3", "own"]),
        ),
        min_size=2,
    ),
    st.sampled_from([SETTINGS, replace(SETTINGS, threshold=3.5), replace(SETTINGS, age_bound=0.0)]),
)
@example(  # a year apart, within the tolerance: compared, and joined
    {1: ([("asha", "rao")], [30], [], [], "own"), 2: ([("asha", "rao")], [31], [], [], "own")}, SETTINGS
)
def test_rare_name_pairs_left_uncompared_could_not_have_joined(
    people: dict[int, tuple[list[Name], list[int], list[str], list[str], str]], linking: LinkSettings
) -> None:
    """Pairs sharing only a rare name whose ages disagree are not compared: linking finds the same suspects, links
    and explanations as when every pair of a rare name's holders was compared (names and ages drawn so that rare
    names, agreeing and disagreeing ages, dates of birth, shared phones and accounts all meet)."""
    reports = sorted(people)
    identity = [(r, "esp_user", f"esp/{r}" if account == "own" else account) for r, (*_, account) in people.items()] + [
        (r, "phone", phone) for r, (*_, phones, _) in people.items() for phone in phones
    ]
    data = store({}, crowd=60)  # the crowd makes the drawn names rare and an agreeing age worth bits
    data.reports += reports
    data.identity += identity
    data.names.update({r: tuple(found[0]) for r, found in people.items()})
    data.ages.update({r: tuple(found[1]) for r, found in people.items() if found[1]})
    data.born.update({r: tuple(found[2]) for r, found in people.items() if found[2]})
    found = resolve_suspects(data, linking)
    with patch("tipfusion.link.suspects.rare_name_pairs", every_rare_name_pair):
        compared_all = resolve_suspects(data, linking)
    assert found.label_of == compared_all.label_of
    assert found.links == compared_all.links
