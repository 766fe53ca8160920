"""`tipfusion link --incremental`: re-link the reports whose evidence changed since the last link, and what they touch.

The suspects stage decides each region of the store alone (`link.locality.suspect_regions`: reports joined by an
account, by a value under its kind's cap, by a name the model counts rare), weighed by the store's model. So after a
batch, the regions holding a report whose evidence digest changed (new, answered by an ISP, enriched anew, a new
version), or that shared an old suspect with one, are linked alone with the last full run's model, and every other
report keeps its suspect and its explanations (as stored: they are neither read nor written). Networks, which tie
suspects across regions, are found again over the whole store (a few seconds at a million reports). The answer
equals a full link weighed by that model (`tests/test_link_incremental.py`); a full link measures the model afresh.

A run links everything instead, and says why, when there is nothing to build on: no earlier run kept a basis (the
store's first link, a Spark link, a link before this version), or the link settings or the analysts' overrides
changed since.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tipfusion.link.locality import EvidenceState, HeldValues, suspect_regions, within
from tipfusion.link.networks import find_networks
from tipfusion.link.records import Clustering, LinkInput, LinkModel
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects


@dataclass(frozen=True)
class Basis:
    """What a link's answer rests on: the model it weighed pairs by (measured by run `measured_by`), the settings,
    and the overrides in force. Kept with each embedded run (`link_runs.basis`)."""

    model: LinkModel
    settings: Mapping[str, Any]
    overrides: str
    measured_by: int | None  # the run that measured the model (None: a model given to a full link, not measured)

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model.as_json(),
            "settings": json.loads(json.dumps(self.settings)),
            "overrides": self.overrides,
            "measured_by": self.measured_by,
        }

    @classmethod
    def of_json(cls, kept: Mapping[str, Any]) -> Basis:
        measured_by = kept["measured_by"]
        return cls(LinkModel.of_json(kept["model"]), kept["settings"], kept["overrides"], measured_by)


def overrides_digest(overrides: Iterable[Any]) -> str:
    """The overrides in force, as one digest: any added, withdrawn or changed makes another."""
    described = sorted(
        json.dumps([o.id, o.action, o.kind, o.value, o.report_a, o.report_b, o.reason], default=str) for o in overrides
    )
    return hashlib.sha256("\n".join(described).encode()).hexdigest()


def why_link_everything(
    last: tuple[int, Mapping[str, Any] | None] | None, settings: LinkSettings, overrides: list[Any]
) -> str | None:
    """Why this store cannot be linked incrementally now, or None when it can."""
    if last is None:
        return "no earlier link to build on"
    run, kept = last
    if kept is None:
        return f"run {run} kept no basis (a Spark link, or one before incremental links)"
    if json.loads(json.dumps(settings.as_dict())) != kept["settings"]:
        return f"the link settings changed since run {run}"
    if overrides_digest(overrides) != kept["overrides"]:
        return f"analysts' overrides changed since run {run}"
    return None


@dataclass(frozen=True)
class Previous:
    """The last link's answer, as far as re-linking needs it."""

    run: int  # the run that gave it
    basis: Basis
    digests: Mapping[int, int]  # report → evidence digest
    suspect_of: Mapping[int, int]  # report → its suspect (the suspect's smallest report)
    holders: Mapping[int, int]  # value (by hash) → accounts holding it, for values two or more held


def over_cap_both(value: int, state: EvidenceState, previous: Previous) -> bool:
    """Whether a value was over its kind's cap at the last link and is now: it says nothing either way (its record
    is counted over the whole store), so a batch adding a holder to a busy address relinks none of its holders."""
    cap = state.caps.get(value)
    return cap is not None and state.holders[value] > cap and previous.holders.get(value, 0) > cap


class SplitChanged(Exception):
    """A report an analyst split from its suspect changed or was purged: the reports it was split from are known
    only to a full link (it is in no old suspect with them)."""

    def __init__(self, report: int) -> None:
        super().__init__(f"report {report}, which an analyst split from its suspect, changed")
        self.report = report


@dataclass(frozen=True)
class Relinked:
    clustering: Clustering  # every report's suspect; the explained links of the suspects linked again only
    rewritten: set[int]  # the suspects whose explanations are those links: the old ones re-linked, and the new
    networks: Clustering
    coarse: dict[int, int]
    reports: int  # how many reports were linked again (the regions touched)
    changed: int  # how many reports' evidence changed
    seconds_suspects: float  # of the whole: the evidence's state, finding the regions and linking them again
    evidence: EvidenceState  # what the next incremental link compares with


def relink(
    data: LinkInput,
    settings: LinkSettings,
    previous: Previous,
    apart: set[int],
    joins: list[tuple[int, int, str]],
    constrain: Any,
) -> Relinked:
    """Link the regions a change touched, keep the rest, find networks over the whole store. `data` has the analysts'
    noise dropped already (`apply_overrides`); `constrain(clustering, apart, joins)` applies their splits and joins;
    The values' holders are counted once (`HeldValues`) for the evidence's state, the regions and the over-cap
    records: each count is a pass over every identity row of the store.

    Touched: every report whose evidence changed, every holder of a value whose count of holders changed (a purged
    report's phone no longer over the cap for the three left, a new one's pushing it over), and every report that
    shared an old suspect with one of those or with a purged report; then the whole regions they lie in."""
    started = time.perf_counter()
    model = previous.basis.model
    held = HeldValues.of(data, settings)
    state = EvidenceState.of(data, settings, held)
    changed = {report for report, digest in state.digests.items() if previous.digests.get(report) != digest}
    recounted = {
        value
        for value in state.holders.keys() | previous.holders.keys()
        if state.holders.get(value) != previous.holders.get(value) and not over_cap_both(value, state, previous)
    }
    joins = [join for join in joins if join[0] in state.digests and join[1] in state.digests]
    members: dict[int, list[int]] = defaultdict(list)  # old suspect → its reports (those still in the store)
    for report, suspect in previous.suspect_of.items():
        members[suspect].append(report)
    gone = previous.suspect_of.keys() - state.digests.keys()
    if apart & (changed | gone):
        raise SplitChanged(sorted(apart & (changed | gone))[0])
    region = suspect_regions(data, settings, model, [(a, b) for a, b, _ in joins], held)
    in_region: dict[int, list[int]] = defaultdict(list)
    for report, label in region.items():
        in_region[label].append(report)
    # the regions of the changed reports and of every report that shared an old suspect with one, until closed
    relinked: set[int] = set()
    waiting = changed | state.holding(data, recounted)
    for report in gone:
        waiting.update(members[previous.suspect_of[report]])
    while waiting:
        labels = {region[report] for report in waiting if report in region}
        added = {report for label in labels for report in in_region[label]} - relinked
        relinked |= added
        old = {previous.suspect_of[report] for report in added if report in previous.suspect_of}
        waiting = {report for suspect in old for report in members[suspect]} - relinked - gone
    suppressed = [*data.suppressed, *held.over_cap()]
    del held
    part = within(data, relinked, suppressed, networks=False)  # networks are found over the whole store
    alone = resolve_suspects(part, settings, model)
    alone = constrain(alone, apart & relinked, [j for j in joins if j[0] in relinked and j[1] in relinked])
    label_of = {report: previous.suspect_of[report] for report in data.reports if report not in relinked}
    label_of.update(alone.label_of)
    redone = {previous.suspect_of[report] for report in relinked if report in previous.suspect_of}
    redone |= {previous.suspect_of[report] for report in gone}
    redone |= set(alone.label_of.values())
    clustering = Clustering(label_of, alone.links, suppressed, model)
    seconds_suspects = time.perf_counter() - started
    networks, coarse = find_networks(data, label_of, settings)
    return Relinked(clustering, redone, networks, coarse, len(relinked), len(changed), seconds_suspects, state)
