"""`tipfusion link`: extract → suspects → networks → stable identities → store, with overrides applied.

Identities are deterministic: a suspect is named after the smallest report number among its reports
(`S100000042`), a network after the smallest report number among its suspects' reports (`N100000042`). So a
rebuild from scratch and a run after each batch give the same names, and a name survives as long as its
first report stays in it. When two suspects merge or one splits, the names that disappear are recorded as
aliases of the name that took over most of their reports, so a case that points at an old name still resolves.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from tipfusion.audit import UnitOfWork
from tipfusion.audit.decisions import record_decision, require_reason
from tipfusion.enrich.hashlists.service import refresh as refresh_hash_matches
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.link.columns import FileRows, ReportKeys
from tipfusion.link.extract import load_input
from tipfusion.link.incremental import (
    Basis,
    Previous,
    SplitChanged,
    overrides_digest,
    relink,
    why_link_everything,
)
from tipfusion.link.locality import EvidenceState
from tipfusion.link.networks import GROUP_EVIDENCE, find_networks
from tipfusion.link.records import Clustering, Link, LinkInput, LinkModel, Suppressed
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects
from tipfusion.memory import collector_paused
from tipfusion.store import links as link_reads
from tipfusion.store.bulk import insert_rows, replace_mapping, replace_rows
from tipfusion.store.current import chunked
from tipfusion.store.db import ensure_schema, snapshot
from tipfusion.store.repository import now
from tipfusion.store.statistics import refresh_statistics
from tipfusion.store.tables import (
    link_aliases,
    link_explanations,
    link_overrides,
    link_report_digests,
    link_runs,
    link_value_holders,
    networks,
    report_links,
    suppressed_values,
    suspects,
)

NETWORK_KINDS = {GROUP_EVIDENCE, "file", "lead"}


@dataclass
class LinkSummary:
    run_id: int = 0
    reports: int = 0
    suspects: int = 0
    networks: int = 0
    suspects_in_networks: int = 0
    network_sizes: dict[int, int] = field(default_factory=dict)
    largest_network: str | None = None
    largest_size: int = 0
    suppressed: int = 0
    top_suppressed: list[dict[str, Any]] = field(default_factory=list)
    merged_ids: int = 0
    split_ids: int = 0
    overrides: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    engine: str = "embedded"
    # table → (rows deleted, rows inserted): a run writes only what changed since the last
    rows_written: dict[str, tuple[int, int]] = field(default_factory=dict)
    # `link --incremental`: how many reports were linked again and how many of them had changed; or why it linked
    # everything (None both: a full link that was asked for)
    relinked: int | None = None
    changed: int | None = None
    linked_everything_because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Outcome:
    """A complete linking of the store: pure result, before it is written."""

    report_suspect: dict[int, str]
    suspect_network: dict[str, str]
    suspect_component: dict[str, str]
    suspect_links: list[tuple[str, Link]]
    network_links: list[tuple[str, Link]]
    suppressed: list[tuple[str, Suppressed]]
    model: LinkModel | None = None  # what the suspects were weighed by (None: an engine that keeps no basis)
    evidence: EvidenceState | None = None  # what the next incremental link compares with (None: no basis kept)
    measured: bool = False  # this run measured `model` itself
    measured_by: int | None = None  # an incremental link: the run that measured the model it carried over
    why_everything: str | None = None  # an incremental link that linked everything after all: why
    relinked: tuple[int, int] | None = None  # an incremental link: (reports linked again, reports that changed)
    # an incremental link: the suspects whose explanations `suspect_links` holds (the others' stay as stored)
    rewritten: set[str] | None = None
    # an incremental link: the last link's answer as it read it, in the snapshot it linked from (`previous`: its run,
    # digests and holder counts; `assignments`: report → (suspect, network, the run that last changed the row)). The
    # store step compares with these instead of reading them again and writes only the difference (at a million
    # reports each is a million rows); it refuses to write if another link has finished since
    previous: Previous | None = None
    assignments: dict[int, tuple[str, str | None, int]] | None = None


@dataclass(frozen=True)
class Overrides:
    """Analysts' overrides, as both engines apply them."""

    noise: dict[tuple[str, str], str]  # (kind, value) → reason
    apart: set[int]  # reports that stand alone
    joins: list[tuple[int, int, str]]  # pairs of reports that are one suspect

    @classmethod
    def of(cls, overrides: list[Any]) -> Overrides:
        return cls(
            {(o.kind, o.value): o.reason for o in overrides if o.action == "noise"},
            {o.report_a for o in overrides if o.action == "split"},
            [(o.report_a, o.report_b, o.reason) for o in overrides if o.action == "merge"],
        )

    @property
    def noisy_groups(self) -> set[str]:
        # a group seen as a chat room and as an ESP group is shown as `a = b`: marking that marks both
        return {part for kind, value in self.noise if kind == GROUP_EVIDENCE for part in value.split(" = ")}

    def suppressed(self) -> list[Suppressed]:
        return [
            Suppressed(kind, value, 0, f"marked noise by an analyst: {reason}")
            for (kind, value), reason in self.noise.items()
        ]

    def constrain(self, clustering: Clustering) -> Clustering:
        return _constrain(clustering, self.apart, self.joins) if self.apart or self.joins else clustering


def apply_overrides(data: LinkInput, overrides: list[Any]) -> tuple[set[int], list[tuple[int, int, str]]]:
    """Drop values marked noise (in place); return reports to keep apart and pairs to join."""
    found = Overrides.of(overrides)
    noise = found.noise
    if noise:
        data.identity = data.identity.without(noise)
        noisy_groups = found.noisy_groups
        data.groups = ReportKeys.of(data.groups).without(noisy_groups)
        data.files = FileRows.of(data.files).without(value for kind, value in noise if kind == "file")
        data.leads = [x for x in data.leads if ("lead", x[0]) not in noise]
        data.suppressed.extend(found.suppressed())
    return found.apart, found.joins


def link_everything(
    data: LinkInput,
    settings: LinkSettings,
    overrides: list[Any],
    timings: dict[str, float],
    model: LinkModel | None = None,
) -> Outcome:
    """Link the whole store, weighed by `model` (measured afresh when None)."""
    started = time.perf_counter()
    apart, joins = apply_overrides(data, overrides)
    return _link_all(data, settings, apart, joins, timings, started, model)


def _link_all(
    data: LinkInput,
    settings: LinkSettings,
    apart: set[int],
    joins: list[tuple[int, int, str]],
    timings: dict[str, float],
    started: float,
    model: LinkModel | None = None,
) -> Outcome:
    """`link_everything` once the overrides are applied to `data`."""
    clustering = resolve_suspects(data, settings, model)
    if apart or joins:
        clustering = _constrain(clustering, apart, joins)
    timings["suspects"] = time.perf_counter() - started
    started = time.perf_counter()
    network_clustering, coarse = find_networks(data, clustering.label_of, settings)
    timings["networks"] = time.perf_counter() - started
    outcome = outcome_of(clustering, network_clustering, coarse)
    outcome.measured = model is None
    started = time.perf_counter()
    outcome.evidence = EvidenceState.of(data, settings)  # what a later incremental link compares with
    timings["digests"] = time.perf_counter() - started
    return outcome


def link_changes(
    data: LinkInput, settings: LinkSettings, overrides: list[Any], timings: dict[str, float], previous: Previous
) -> Outcome:
    """Link again only what changed since the last link (`link.incremental`), weighed by its model."""
    started = time.perf_counter()
    apart, joins = apply_overrides(data, overrides)
    try:
        done = relink(data, settings, previous, apart, joins, _constrain)
    except SplitChanged as why:
        outcome = _link_all(data, settings, apart, joins, timings, started)
        outcome.why_everything = f"{why}: the reports it was split from are known only to a full link"
        return outcome
    timings["suspects"] = done.seconds_suspects
    timings["networks"] = time.perf_counter() - started - done.seconds_suspects
    outcome = outcome_of(done.clustering, done.networks, done.coarse)
    outcome.evidence = done.evidence
    outcome.measured_by = previous.basis.measured_by
    outcome.relinked = (done.reports, done.changed)
    outcome.rewritten = {f"S{suspect}" for suspect in done.rewritten}
    return outcome


def outcome_of(clustering: Clustering, network_clustering: Clustering, coarse: dict[int, int]) -> Outcome:
    """Suspects (report → suspect), networks (suspect → network) and coarse components → stable names and links."""
    named: dict[int, str] = {}  # one name per suspect, however many reports it has
    report_suspect = {report: named.get(s) or named.setdefault(s, f"S{s}") for report, s in clustering.label_of.items()}
    reports_of: dict[int, list[int]] = defaultdict(list)
    for report, label in clustering.label_of.items():
        reports_of[label].append(report)
    # a network is named after the smallest report among all its suspects' reports
    members: dict[int, list[int]] = defaultdict(list)
    for suspect, network in network_clustering.label_of.items():
        members[network].append(suspect)
    network_name = {network: f"N{min(min(reports_of[s]) for s in suspects_)}" for network, suspects_ in members.items()}
    suspect_network = {f"S{s}": network_name[n] for s, n in network_clustering.label_of.items()}
    suspect_component = {f"S{s}": f"C{c}" for s, c in coarse.items()}
    suspect_links = [(f"S{clustering.label_of[link.a]}", link) for link in clustering.links]
    network_links = [(network_name[network_clustering.label_of[link.a]], link) for link in network_clustering.links]
    suppressed = [("suspect", s) for s in clustering.suppressed] + [
        ("network", s) for s in network_clustering.suppressed
    ]
    return Outcome(
        report_suspect, suspect_network, suspect_component, suspect_links, network_links, suppressed, clustering.model
    )


# (settings, overrides, timings to fill, progress) → (reports linked, outcome)
Linker = Callable[
    [LinkSettings, list[Any], dict[str, float], Callable[[str, int, int | None], None]], tuple[int, "Outcome"]
]


def embedded_linker(engine: Engine, model: LinkModel | None = None) -> Linker:
    """The embedded engine: the store read into this process, linked with plain Python and SciPy."""

    def link(
        settings: LinkSettings,
        overrides: list[Any],
        timings: dict[str, float],
        tell: Callable[[str, int, int | None], None],
    ) -> tuple[int, Outcome]:
        started = time.perf_counter()  # in `LinkService.run`'s pause of the cycle collector: see `tipfusion.memory`
        with snapshot(engine) as conn:  # the reports and all about them as of one moment
            data = load_input(conn)
        timings["extract"] = timings.get("extract", 0.0) + time.perf_counter() - started
        tell("resolving suspects and networks", 1, 3)
        return len(data.reports), link_everything(data, settings, overrides, timings, model)

    return link


class IncrementalLinker:
    """The embedded engine, linking again only what changed since the last link when that link left a basis to
    build on (`link.incremental`); everything when not, and `why` says why."""

    name = "embedded"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.why: str | None = None

    def __call__(
        self,
        settings: LinkSettings,
        overrides: list[Any],
        timings: dict[str, float],
        tell: Callable[[str, int, int | None], None],
    ) -> tuple[int, Outcome]:
        started = time.perf_counter()
        with snapshot(self.engine) as conn:
            last = link_reads.latest_basis(conn)
            self.why = why_link_everything(last, settings, overrides)
            assignments = previous = None
            if self.why is None and last is not None and last[1] is not None:
                assignments = link_reads.assignments(conn)
                previous = Previous(
                    last[0],
                    Basis.of_json(last[1]),
                    link_reads.evidence_digests(conn),
                    {report: int(s[1:]) for report, (s, _, _) in assignments.items()},
                    link_reads.value_holders(conn),
                )
            data = load_input(conn)
        timings["extract"] = timings.get("extract", 0.0) + time.perf_counter() - started
        tell("resolving suspects and networks", 1, 3)
        if previous is None:
            return len(data.reports), link_everything(data, settings, overrides, timings)
        outcome = link_changes(data, settings, overrides, timings, previous)
        outcome.previous, outcome.assignments = previous, assignments
        return len(data.reports), outcome


def _constrain(clustering: Clustering, apart: set[int], joins: list[tuple[int, int, str]]) -> Clustering:
    """Analyst overrides on top of the evidence: a split report stands alone; a merged pair is one suspect."""
    label_of = dict(clustering.label_of)
    links = list(clustering.links)
    for report in sorted(apart):
        if report not in label_of:
            continue
        old = label_of[report]
        label_of[report] = report
        rest = [r for r, label in label_of.items() if label == old and r != report]
        for r in rest:  # the group keeps the smallest report it still has
            label_of[r] = min(rest)
        links = [link for link in links if report not in (link.a, link.b)]
    for a, b, reason in joins:
        if a not in label_of or b not in label_of:
            continue
        keep, drop = sorted((label_of[a], label_of[b]))
        for r, label in label_of.items():
            if label == drop:
                label_of[r] = keep
        links.append(Link(min(a, b), max(a, b), 99.0, (("analyst", reason, 99.0),)))
    return Clustering(label_of, links, clustering.suppressed, clustering.model)


class LinkService:
    def __init__(self, engine: Engine, actor: str, settings: LinkSettings | None = None):
        self.engine = engine
        self.actor = actor
        self.settings = settings or LinkSettings()

    def run(
        self,
        progress: Callable[[str, int, int | None], None] | None = None,
        linker: Linker | None = None,
        incremental: bool = False,
        model: LinkModel | None = None,
    ) -> LinkSummary:
        """Link everything again from the store; `progress(step, done, total)` hears of each of the three steps.

        `linker` computes the outcome (default: the embedded engine, over the store itself); whichever computes it,
        the same code below writes it, names, aliases and audits it. `incremental`: the embedded engine links again
        only what changed since the last link, where it can (`link.incremental`). `model`: weigh by this model
        instead of measuring one (a full link that an incremental one can be compared with)."""
        if incremental and (linker is not None or model is not None):
            raise ValueError("an incremental link is the embedded engine's, weighed by the last full link's model")
        if linker is None:
            linker = IncrementalLinker(self.engine) if incremental else embedded_linker(self.engine, model)
        tell = progress or (lambda _what, _done, _total: None)
        tell("reading the store", 0, 3)
        ensure_schema(self.engine)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        refresh_hash_matches(self.engine, self.actor)  # new files since the last import are matched too
        timings["extract"] = time.perf_counter() - started  # the linker adds its reading to this
        with UnitOfWork(self.engine, self.actor) as uow:  # the run's row; its entry is written with the result
            run_id = int(
                uow.conn.execute(
                    insert(link_runs)
                    .values(started_at=now(), actor=self.actor, settings=self.settings.as_dict())
                    .returning(link_runs.c.id)
                ).scalar_one()
            )
        with self.engine.connect() as conn:
            overrides = list(conn.execute(select(link_overrides).where(link_overrides.c.active.is_(True))))
        # one pause of the cycle collector for the linking and the storing, and one collection after, once the
        # outcome is gone: a collection while it lived walked its millions of containers for nothing (1.7 s at 1 M)
        with collector_paused():
            reports, outcome = linker(self.settings, overrides, timings, tell)
            tell("storing", 2, 3)
            started = time.perf_counter()
            summary = LinkSummary(
                run_id=run_id,
                reports=reports,
                overrides=len(overrides),
                engine=getattr(linker, "name", "embedded"),
            )
            if outcome.relinked is not None:
                summary.relinked, summary.changed = outcome.relinked
            summary.linked_everything_because = outcome.why_everything or getattr(linker, "why", None)
            with UnitOfWork(self.engine, self.actor) as uow:
                _nothing_finished_since(uow.conn, outcome)
                self._store(uow.conn, run_id, outcome, summary)
                self._keep_basis(uow.conn, run_id, outcome, overrides)
                changed = {table: deleted + inserted for table, (deleted, inserted) in summary.rows_written.items()}
                refresh_statistics(uow.conn, changed)  # triage and routing plan their reads of these tables from it
                timings["store"] = time.perf_counter() - started
                summary.seconds = {k: round(v, 3) for k, v in timings.items()}
                uow.conn.execute(
                    update(link_runs)
                    .where(link_runs.c.id == run_id)
                    .values(finished_at=now(), summary=summary.as_dict())
                )
                uow.record("link.completed", "link_run", str(run_id), summary.as_dict())
            del outcome
        return summary

    def _keep_basis(self, conn: Connection, run_id: int, outcome: Outcome, overrides: list[Any]) -> None:
        """What this run's answer rests on, for the next incremental link: the model (carried over from the run
        that measured it, when this one re-linked only changes), each report's evidence digest and each shared
        value's count of holders."""
        if outcome.model is None or outcome.evidence is None:  # an engine that keeps no basis: nothing to build on
            conn.execute(delete(link_report_digests))
            conn.execute(delete(link_value_holders))
            return
        measured_by = run_id if outcome.measured else outcome.measured_by
        basis = Basis(outcome.model, self.settings.as_dict(), overrides_digest(overrides), measured_by)
        conn.execute(update(link_runs).where(link_runs.c.id == run_id).values(basis=basis.as_json()))
        evidence, previous = outcome.evidence, outcome.previous
        if previous is not None:  # what the store holds was read with the answer: write the difference only
            replace_mapping(conn, link_report_digests, "report_id", "digest", previous.digests, evidence.digests)
            replace_mapping(conn, link_value_holders, "value_hash", "holders", previous.holders, evidence.holders)
            return
        digests = sorted(evidence.digests.items())
        replace_rows(conn, link_report_digests, "report_id", ("report_id", "digest"), digests)
        holders = sorted(evidence.holders.items())
        replace_rows(conn, link_value_holders, "value_hash", ("value_hash", "holders"), holders)

    def _store(self, conn: Connection, run_id: int, outcome: Outcome, summary: LinkSummary) -> None:
        previous = outcome.assignments if outcome.assignments is not None else link_reads.assignments(conn)
        aliases = _aliases(((r, s) for r, (s, _, _) in previous.items()), outcome.report_suspect)
        network_of_report = {r: outcome.suspect_network.get(s) for r, s in outcome.report_suspect.items()}
        aliases += _aliases(((r, n) for r, (_, n, _) in previous.items() if n), network_of_report)
        # only what changed is written: a row kept as it was keeps the run that last changed it (`run_id`)
        stamp = {"run_id": run_id}
        written = summary.rows_written
        written["report_links"] = replace_rows(
            conn,
            report_links,
            "report_id",
            ("report_id", "suspect_id", "network_id"),
            [(r, s, network_of_report[r]) for r, s in sorted(outcome.report_suspect.items())],
            stamp,
            stored=((r, s, n, r, run) for r, (s, n, run) in previous.items()),  # the rows read above, not again
        )
        del previous, network_of_report
        size = Counter(outcome.report_suspect.values())
        written["suspects"] = replace_rows(
            conn,
            suspects,
            "suspect_id",
            ("suspect_id", "reports", "network_id", "component_id"),
            [(s, n, outcome.suspect_network.get(s), outcome.suspect_component.get(s)) for s, n in sorted(size.items())],
            stamp,
        )
        network_members: dict[str, list[str]] = defaultdict(list)
        for s, n in outcome.suspect_network.items():
            network_members[n].append(s)
        summaries = network_summaries(conn, outcome)
        written["networks"] = replace_rows(
            conn,
            networks,
            "network_id",
            ("network_id", "suspects", "reports", "summary"),
            [(n, len(m), sum(size[s] for s in m), summaries.get(n)) for n, m in sorted(network_members.items())],
            stamp,
        )
        # the evidence goes as the tuples it is (JSON arrays): a list made of each item cost ~4 s at 1 M
        suspect_rows = [
            ("suspect", owner, str(link.a), str(link.b), link.score, link.evidence)
            for owner, link in outcome.suspect_links
        ]
        network_rows = [
            ("network", owner, f"S{link.a}", f"S{link.b}", link.score, link.evidence)
            for owner, link in outcome.network_links
        ]
        columns = ("level", "owner_id", "a", "b", "score", "evidence")
        if outcome.rewritten is None:
            written["link_explanations"] = replace_rows(
                conn, link_explanations, "id", columns, suspect_rows + network_rows
            )
        else:  # an incremental link: the suspects it linked again, and every network
            written["link_explanations"] = _rewrite_explanations(conn, outcome.rewritten, suspect_rows, network_rows)
        written["suppressed_values"] = replace_rows(
            conn,
            suppressed_values,
            "id",
            ("level", "kind", "value", "holders", "reason"),
            [(level, s.kind, s.value, s.holders, s.reason) for level, s in outcome.suppressed],
        )
        latest = {old: (new, reason) for old, new, reason in aliases}  # an old name points at its newest successor
        for part in chunked(latest):
            conn.execute(delete(link_aliases).where(link_aliases.c.old_id.in_(part)))
        rows = [(old, new, reason, run_id) for old, (new, reason) in latest.items()]
        insert_rows(conn, link_aliases, ("old_id", "new_id", "reason", "run_id"), rows)
        summary.suspects = len(size)
        summary.networks = len(network_members)
        summary.suspects_in_networks = len(outcome.suspect_network)
        summary.network_sizes = dict(sorted(Counter(len(m) for m in network_members.values()).items()))
        if network_members:
            largest = max(network_members.items(), key=lambda kv: (len(kv[1]), kv[0]))
            summary.largest_network, summary.largest_size = largest[0], len(largest[1])
        summary.suppressed = len(outcome.suppressed)
        summary.top_suppressed = [
            {"kind": s.kind, "value": s.value, "holders": s.holders, "reason": s.reason}
            for _, s in sorted(outcome.suppressed, key=lambda x: -x[1].holders)[:10]
        ]
        summary.merged_ids = sum(1 for a in aliases if a[2] == "merged")
        summary.split_ids = sum(1 for a in aliases if a[2] == "split")


def _nothing_finished_since(conn: Connection, outcome: Outcome) -> None:
    """An answer built on another's (an incremental link: its suspects, and the rows it compares with) is written
    only if no other link finished since it read that one: two answers mixed would be neither."""
    if outcome.previous is None:
        return
    last = link_reads.latest_basis(conn)
    if last is None or last[0] != outcome.previous.run:
        raise TipfusionError(
            f"another link (run {last[0] if last else '?'}) finished while this one ran on run "
            f"{outcome.previous.run}'s answer: run tipfusion link --incremental again"
        )


def _rewrite_explanations(
    conn: Connection, suspects_: set[str], suspect_rows: list[tuple[Any, ...]], network_rows: list[tuple[Any, ...]]
) -> tuple[int, int]:
    """The explanations of these suspects and of every network made to be the rows given, the other suspects' left
    as stored (an incremental link neither reads nor writes them). (deleted, inserted) over all."""
    columns = ("level", "owner_id", "a", "b", "score", "evidence")
    deleted, inserted = replace_rows(conn, link_explanations, "id", columns, network_rows, where="level = 'network'")
    by_owner: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in suspect_rows:
        by_owner[row[1]].append(row)
    names = sorted(suspects_)
    if any(not (name[:1] == "S" and name[1:].isdigit()) for name in names):
        raise ValueError("suspect names are S and the number of their first report")
    for at in range(0, len(names), 1000):
        part = names[at : at + 1000]
        chosen = "level = 'suspect' AND owner_id IN (" + ", ".join(f"'{name}'" for name in part) + ")"
        rows = [row for name in part for row in by_owner.get(name, ())]
        gone, added = replace_rows(conn, link_explanations, "id", columns, rows, where=chosen)
        deleted, inserted = deleted + gone, inserted + added
    return deleted, inserted


def _aliases(before: Iterable[tuple[int, str]], after: Mapping[int, str | None]) -> list[tuple[str, str, str]]:
    """Names that disappeared (report → name before; report → name now, or None), each pointing at the name that took
    most of its reports."""
    surviving = set(after.values())
    moved: dict[str, Counter[str]] = defaultdict(Counter)
    for report, old in before:
        if old not in surviving and (new := after.get(report)) is not None:
            moved[old][new] += 1
    out = []
    for old, targets in sorted(moved.items()):
        new, _ = max(targets.items(), key=lambda kv: (kv[1], kv[0]))
        out.append((old, new, "split" if len(targets) > 1 else "merged"))
    return out


def network_summaries(conn: Connection, outcome: Outcome) -> dict[str, dict[str, Any]]:
    """What each network is and why it hangs together — suspects, reports, time span, ESPs, ISPs, estimated
    places, kinds of links, key shared values — for all networks in one pass over the store."""
    if not outcome.suspect_network:
        return {}
    # report_links holds this run's networks by now: the database counts each network's reports, per ESP and in all
    count: Counter[str] = Counter()
    first: dict[str, Any] = {}
    last: dict[str, Any] = {}
    esps: dict[str, Counter[str]] = defaultdict(Counter)
    for network, esp, reports, earliest, latest in link_reads.network_reports_per_esp(conn):
        count[network] += reports
        esps[network][esp or "unknown"] += reports
        if earliest is not None and latest is not None:  # both or neither: no incident time among them
            first[network] = min(first.get(network, earliest), earliest)
            last[network] = max(last.get(network, latest), latest)
    # and per ISP and estimated place
    counted: dict[str, dict[str, dict[str, int]]] = {"isp": defaultdict(dict), "place": defaultdict(dict)}
    for what, network, name, reports in link_reads.network_isps_and_places(conn):
        counted[what][network][name] = reports
    isps, places = counted["isp"], counted["place"]
    why: dict[str, Counter[str]] = defaultdict(Counter)
    shared: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for network, link in outcome.network_links:
        for kind, value, _ in link.evidence:
            why[network][kind] += 1
            if not str(value).startswith("…"):
                shared[network][(kind, str(value))] += 1
    members: dict[str, list[str]] = defaultdict(list)
    for suspect, network in outcome.suspect_network.items():
        members[network].append(suspect)

    def top(counter: dict[str, int], n: int = 5) -> dict[str, int]:
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n])

    return {
        network: {
            "suspects": sorted(suspect_ids),
            "reports": count[network],
            "first_incident": first[network].isoformat() if network in first else None,
            "last_incident": last[network].isoformat() if network in last else None,
            "esps": dict(esps[network].most_common()),
            "isps": top(isps.get(network, {})),
            "places_estimated": top(places.get(network, {})),
            "links_by_kind": dict(why[network].most_common()),
            "key_shared_values": [
                {"kind": k, "value": value, "links": n} for (k, value), n in shared[network].most_common(8)
            ],
        }
        for network, suspect_ids in members.items()
    }


def add_override(
    engine: Engine,
    actor: str,
    action: str,
    reason: str,
    kind: str | None = None,
    value: str | None = None,
    report_a: int | None = None,
    report_b: int | None = None,
) -> int:
    """Record an analyst's override (audited); it applies from the next `tipfusion link` and survives re-runs."""
    require_reason(reason, "an override")
    if action == "noise" and not (kind and value):
        raise TipfusionError("noise needs the evidence kind and the value, e.g. phone +919811012345")
    ensure_schema(engine)
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        for report in (report_a, report_b):
            if (
                report is not None
                and conn.execute(select(report_links.c.report_id).where(report_links.c.report_id == report)).first()
                is None
            ):
                from tipfusion.store.tables import reports as r

                if conn.execute(select(r.c.report_id).where(r.c.report_id == report)).first() is None:
                    raise NotFound(f"no report {report}")
        override_id = record_decision(
            uow,
            link_overrides,
            f"link.override.{action}",
            "link_override",
            None,
            {
                "action": action,
                "kind": kind,
                "value": value,
                "report_a": report_a,
                "report_b": report_b,
                "reason": reason,
            },
            {"kind": kind, "value": value, "report_a": report_a, "report_b": report_b, "reason": reason},
        )
    return override_id


__all__ = [
    "NETWORK_KINDS",
    "LinkService",
    "LinkSummary",
    "add_override",
    "network_summaries",
]


def overrides_in_force(engine: Engine) -> list[Any]:
    """The analyst overrides the next `tipfusion link` applies, in the order they were made."""
    with engine.connect() as conn:
        return list(
            conn.execute(select(link_overrides).where(link_overrides.c.active.is_(True)).order_by(link_overrides.c.id))
        )


def largest_networks(engine: Engine, count: int) -> list[Any]:
    """The `count` networks with the most suspects (ties by id): their rows, summary included."""
    with engine.connect() as conn:
        query = select(networks).order_by(networks.c.suspects.desc(), networks.c.network_id).limit(count)
        return list(conn.execute(query))
