"""Contradicting evidence in bits (Fellegi–Sunter): what it says when two accounts both show a kind and share none.

Agreement on a value adds that value's weight (`LinkSettings.weights`, read as bits: log2 of how much likelier the
agreement is between one person's accounts than between strangers', discounted as more accounts hold the value).
Disagreement subtracts log2((1 - m) / (1 - u)) bits, where

- m is how often one person's two accounts agree on the kind when both show one, measured on the store's sure pairs
  (`measure_agreement`: pairs whose values of *other* kinds add up to `LinkSettings.sure_bits`, so the kind being
  measured did not make them) and drawn towards a documented prior per kind (`LinkSettings.agreement_m`, counted as
  `agreement_prior` pairs): a small store keeps the prior, a large one says what its people do. Reports on one ESP
  account are no sample: they agree by construction, which would make every disagreement fatal;
- u is how often two random accounts of the store agree on the kind, measured on the store each run from the values'
  frequencies: the sum over values of C(holders, 2) over C(accounts showing the kind, 2).

The penalty is bounded (`LinkSettings.disagreement_bound`): a person with two phones is common, so a disagreement
can outweigh one strong value but never a strong value with corroboration (a shared email with the same name).
Both engines compute the counts and call these functions, so they weigh a contradiction the same.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from tipfusion.link.settings import LinkSettings

CONTRADICTION = "contradiction"
"""The evidence kind a disagreement is explained under (the value names the kind and the bits)."""


@dataclass(frozen=True, slots=True)
class Disagreement:
    """What it means, on this store, that two accounts both show a `kind` and share no value of it."""

    kind: str
    m: float  # P(agree | one person): measured on sure pairs, drawn towards the prior
    u: float  # P(agree | two random accounts), measured
    bits: float  # ≤ 0, bounded
    sure: int = 0  # the sure pairs showing the kind on both sides that m was measured on

    def words(self) -> str:
        """The explanation an analyst reads beside the link."""
        measured = f"; {self.sure} sure pairs measured" if self.sure else "; a prior, nothing measured"
        return (
            f"both show a {self.kind}, none in common (one person's accounts agree {self.m:.0%} of the time, "
            f"random accounts {self.u:.2%}{measured})"
        )


@dataclass(frozen=True, slots=True)
class Agreement:
    """On the store's sure pairs: how many showed a kind on both sides, and how many of those shared a value of it."""

    both: int = 0
    agree: int = 0


def measure_agreement(
    pairs: Iterable[tuple[Mapping[str, float], Mapping[str, Collection[str]], Mapping[str, Collection[str]]]],
    settings: LinkSettings,
) -> dict[str, Agreement]:
    """`pairs`: for each candidate pair of accounts, (kind → bits of the value it shares, each account's values of
    the kinds `settings.agreement_m` names) → kind → what the pairs sure without it (the bits of the other kinds add
    up to `settings.sure_bits`) show: their agreement on the kind is an estimate of m free of the kind's own weight.

    Sums are exact (`math.fsum`), so a pair at exactly `sure_bits` is sure in whatever order its kinds come (both
    engines). The sample leans one way only: two people sure by other values (a relative's mailbox and the home line
    they share) are counted and pull m down, which makes a disagreement weigh less, never more."""
    counts = {kind: [0, 0] for kind in settings.agreement_m}
    for shared, a_values, b_values in pairs:
        if math.fsum(w for w in shared.values() if w > 0) < settings.sure_bits:
            continue  # cheap: no kind's exclusion can make it sure
        for kind, count in counts.items():
            if not (a_values.get(kind) and b_values.get(kind)):
                continue
            if math.fsum(w for other, w in shared.items() if other != kind) < settings.sure_bits:
                continue
            count[0] += 1
            count[1] += not set(a_values[kind]).isdisjoint(b_values[kind])
    return {kind: Agreement(both, agree) for kind, (both, agree) in counts.items()}


def estimate_disagreements(
    accounts_with: Mapping[str, int],
    holders: Iterable[tuple[str, int]],
    settings: LinkSettings,
    measured: Mapping[str, Agreement] | None = None,
) -> dict[str, Disagreement]:
    """`accounts_with`: kind → distinct accounts showing a value of it; `holders`: (kind, distinct accounts holding
    one value) for every value; `measured`: what the sure pairs show (`measure_agreement`) → kind → its disagreement
    weight, for each kind `settings.agreement_m` names."""
    agreeing: dict[str, int] = dict.fromkeys(settings.agreement_m, 0)
    for kind, count in holders:
        if kind in agreeing:
            agreeing[kind] += count * (count - 1) // 2
    found: dict[str, Disagreement] = {}
    for kind, prior in sorted(settings.agreement_m.items()):
        seen = (measured or {}).get(kind, Agreement())
        m = (seen.agree + settings.agreement_prior * prior) / (seen.both + settings.agreement_prior)
        n = accounts_with.get(kind, 0)
        pairs = n * (n - 1) // 2
        u = min(agreeing[kind] / pairs, 0.5) if pairs else 0.0
        bits = max(math.log2(max(1.0 - m, 1e-9) / (1.0 - u)), -settings.disagreement_bound)
        found[kind] = Disagreement(kind, round(m, 6), round(u, 6), round(min(bits, 0.0), 3), seen.both)
    return found


def contradictions(
    a_values: Mapping[str, Collection[str]],
    b_values: Mapping[str, Collection[str]],
    weights: Mapping[str, Disagreement],
) -> dict[str, Disagreement]:
    """The kinds two accounts both show values of and share none of (each account's values by kind)."""
    return {
        kind: weight
        for kind, weight in weights.items()
        if a_values.get(kind) and b_values.get(kind) and set(a_values[kind]).isdisjoint(b_values[kind])
    }
