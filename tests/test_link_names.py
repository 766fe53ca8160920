"""Real names as frequency-weighted corroboration, and an age agreeing with a name (issue 17 §1): a rare name and an
agreeing age join two accounts that share nothing else; a name alone, a common name, or ages apart never do."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from tipfusion.link.names import NameStats, Person, age_weight, judge, measure, name_weight
from tipfusion.link.records import LinkInput
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects

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
