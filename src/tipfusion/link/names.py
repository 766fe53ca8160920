"""A real name as frequency-weighted corroboration, and an age that agrees with it (issue 17 §1).

Two accounts that give the same first and last name gain bits by how rare that name is on the store
(Fellegi–Sunter with term frequencies): log2(m / u), where m is how often one person's two named accounts give the
same name (a prior, `LinkSettings.name_m`) and u the chance that a random named account gives this one, measured
as the accounts holding it over all named accounts. The weight never falls below `same_name` (what any shared name
was worth before frequencies were measured) and never rises above `name_bound`, which is below the threshold: a
name alone, however rare, never makes two accounts one person. A rare name is also looked at on its own (pairs that
share nothing else are compared when a name is held by at most `name_cap` accounts), so a rare name and an age that
agrees with it (both accounts' stated ages within `age_tolerance` years, or the same date of birth) can join two
accounts — the age worth log2(m / u) bits too, u measured from the store's ages, at most `age_bound`. Self-declared
ages are often false, so two ages that disagree take nothing away; two different names do (`different_name`).

Both engines count the holders and ages and call these functions, so they weigh a name the same.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from tipfusion.link.settings import LinkSettings

Name = tuple[str, str]  # (first, last), casefolded


@dataclass(frozen=True, slots=True)
class Person:
    """What a node's accounts say about the person behind them: names, stated ages, dates of birth (each distinct;
    a tuple, as linking builds it for every candidate account, or a frozenset)."""

    names: Collection[Name] = ()
    ages: Collection[int] = ()
    born: Collection[str] = ()  # ISO dates


@dataclass(frozen=True, slots=True)
class NameStats:
    """The store's frequencies names and ages are weighed by: holders per name, named accounts, an age's bits."""

    holders: Mapping[Name, int]
    named: int
    age_bits: float


def measure(people: Iterable[Person], settings: LinkSettings) -> NameStats:
    """Frequencies over the store's nodes (one per ESP account or report)."""
    holders: Counter[Name] = Counter()
    ages: Counter[int] = Counter()
    named = 0
    for person in people:
        if person.names:
            named += 1
            holders.update(person.names)
        ages.update(person.ages)
    return NameStats(holders, named, age_weight(ages, settings))


def age_weight(ages: Mapping[int, int], settings: LinkSettings) -> float:
    """Bits for two stated ages within the tolerance: log2(m / u), u the chance two of the store's ages are that close,
    between 0 and `age_bound`."""
    total = sum(ages.values())
    if total < 2:
        return 0.0
    tolerance = settings.age_tolerance
    close = sum(
        count * sum(ages.get(age + step, 0) for step in range(-tolerance, tolerance + 1)) for age, count in ages.items()
    )
    u = close / (total * total)
    return round(min(max(math.log2(settings.age_m / u), 0.0), settings.age_bound), 3) if u else 0.0


def name_weight(holders: int, named: int, settings: LinkSettings) -> float:
    """Bits for a shared name held by `holders` of the store's `named` accounts."""
    if holders < 1 or named < 1:
        return settings.same_name
    tf = math.log2(settings.name_m * named / holders)
    return round(min(max(tf, settings.same_name), settings.name_bound), 3)


def ages_meet(
    ages: Collection[int], born: Collection[str], other_ages: Collection[int], other_born: Collection[str], years: int
) -> bool:
    """The age rule, in one place: the same date of birth, or stated ages within `years`. Cheap enough for the pairs
    of a rare name's holders (`suspects.rare_name_pairs`, hundreds of thousands at 1 M reports)."""
    return any(abs(x - y) <= years for x in ages for y in other_ages) or (
        bool(born) and not set(born).isdisjoint(other_born)
    )


def ages_agree(a: Person, b: Person, tolerance: int) -> str | None:
    """What two accounts' ages have in common, in words (`ages_meet`), or None: the same date of birth, or the
    closest stated ages within tolerance."""
    if not ages_meet(a.ages, a.born, b.ages, b.born, tolerance):
        return None
    if born := sorted(set(a.born).intersection(b.born)):
        return f"born {born[0]}"
    x, y = sorted((min(x, y), max(x, y)) for x in a.ages for y in b.ages if abs(x - y) <= tolerance)[0]
    return f"age {x}" if x == y else f"ages {x} and {y}"


def judge(a: Person, b: Person, stats: NameStats, settings: LinkSettings) -> tuple[float, str] | None:
    """What two accounts' real names say, in bits and words; None when either names nobody."""
    if not a.names or not b.names:
        return None
    shared = set(a.names).intersection(b.names)
    if not shared:
        return settings.different_name, "different names"
    name = min(shared, key=lambda n: (stats.holders.get(n, 2), n))
    held = stats.holders.get(name, 2)
    bits = name_weight(held, stats.named, settings)
    words = f"same name, held by {held} of {stats.named} named accounts"
    agreed = ages_agree(a, b, settings.age_tolerance) if stats.age_bits else None
    if agreed:
        bits += stats.age_bits
        words += f"; {agreed} (+{stats.age_bits:g})"
    return round(bits, 3), words


def rare_names(stats: NameStats, settings: LinkSettings) -> set[Name]:
    """Names rare enough to compare the accounts holding them even when they share nothing else."""
    return {name for name, held in stats.holders.items() if 2 <= held <= settings.name_cap}
