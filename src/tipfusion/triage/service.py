"""`tipfusion triage`: score every report, suspect and network; keep the analysts' pins and lowerings.

A report's score is the sum of its factors (each stored with its points and why); a suspect takes the score of
its most urgent report (suspect-level factors — repeat activity, network, identifiability, lead hits — are in
every report's score already); a network takes its most urgent suspect's. Analysts pin an item to the top of
the queue or lower it by some points, always with a reason; both are audited and survive every re-run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from tipfusion.audit import UnitOfWork
from tipfusion.audit.decisions import record_decision, require_reason
from tipfusion.enrich.hashlists.service import known_content, lists_loaded
from tipfusion.enrich.hashlists.service import refresh as refresh_hash_matches
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.memory import collector_paused
from tipfusion.store import links, priority_counts
from tipfusion.store import triage as reads
from tipfusion.store.bulk import insert_rows
from tipfusion.store.db import ensure_schema
from tipfusion.store.statistics import refresh_statistics
from tipfusion.store.tables import networks, priorities, report_links, suspects, triage_adjustments
from tipfusion.store.triage import lead_hits
from tipfusion.triage.factors import Contribution, ReportFacts, SuspectFacts, score_report
from tipfusion.triage.settings import TriageSettings

LEVELS = ("report", "suspect", "network")
VIRAL = {"viral", "potentialMeme"}


@dataclass
class TriageSummary:
    reports: int = 0
    suspects: int = 0
    networks: int = 0
    adjustments: int = 0
    lead_hits: int = 0
    top: list[dict[str, Any]] = field(default_factory=list)


def gather(
    conn: Connection, settings: TriageSettings
) -> tuple[dict[int, ReportFacts], dict[str, SuspectFacts], dict[int, str]]:
    """Facts for scoring, read in a few set-based passes (`store.triage`)."""
    facts: dict[int, ReportFacts] = {}
    for head in reads.report_heads(conn):
        facts[head.report_id] = ReportFacts(
            head.report_id, head.escalation_text, head.ncmec_priority, head.incident_type, head.incident_at
        )
    for report, name in reads.report_annotations(conn):
        facts[report].annotations = facts[report].annotations | {name}
    for report, role, age in reads.other_parties(conn):
        if role == "victim" or (age is not None and age < 18):
            facts[report].minor_contact = True
    file_keys: dict[tuple[int, int], str] = {}
    for report, ordinal, canonical in reads.file_hashes(conn):
        key = file_keys.get((report, ordinal))
        file_keys[(report, ordinal)] = canonical if key is None else min(key, canonical)
    holders = Counter(file_keys.values())
    viral: set[tuple[int, int]] = set()
    file_ids: dict[int, set[str]] = defaultdict(set)
    for file in reads.file_flags(conn):
        report = file.report_id
        if file.annotations:
            facts[report].file_annotations = facts[report].file_annotations | file.annotations
        file_ids[report].add(file.file_id or f"#{file.ordinal}")  # several fileDetails may describe one file
        facts[report].files = len(file_ids[report])
        if file.potential_meme or file.annotations & VIRAL:
            viral.add((report, file.ordinal))
    known = known_content(conn)
    lists = lists_loaded(conn)
    for (report, ordinal), key in file_keys.items():
        if report not in facts:
            continue
        facts[report].lists_checked = lists
        if (report, ordinal) in known or (report, ordinal) in viral or holders[key] > settings.circulating_holders:
            facts[report].circulating_files += 1
            continue
        if lists:  # only where the unit's lists were checked can a file be called unknown
            facts[report].unknown_files += 1
        if holders[key] == 1:
            facts[report].new_files += 1
    for report in reads.prior_report_mentions(conn):
        facts[report].prior_reports += 1

    suspect_of = links.report_suspects(conn)
    sizes = links.network_sizes(conn)
    people: dict[str, SuspectFacts] = {}
    for suspect, count, network in links.suspect_rows(conn):
        people[suspect] = SuspectFacts(suspect, count, sizes.get(network, 0) if network else 0)
    for report in reads.reports_naming_a_person(conn):
        if report in suspect_of:
            people[suspect_of[report]].identifiable = True
    for lead_ref, report in reads.lead_matches(conn):
        if report in suspect_of:
            people[suspect_of[report]].lead_refs.add(lead_ref)
    return facts, people, suspect_of


class TriageService:
    def __init__(self, engine: Engine, actor: str, settings: TriageSettings | None = None):
        self.engine = engine
        self.actor = actor
        self.settings = settings or TriageSettings()

    def run(self) -> TriageSummary:
        ensure_schema(self.engine)
        refresh_hash_matches(self.engine, self.actor)  # a file ingested since the last import is checked too
        # a fact per report and a score per report, suspect and network live until the run ends: `tipfusion.memory`
        with UnitOfWork(self.engine, self.actor) as uow, collector_paused():
            conn = uow.conn
            facts, people, suspect_of = gather(conn, self.settings)
            adjustments = list(conn.execute(select(triage_adjustments).where(triage_adjustments.c.active.is_(True))))
            newest = max((f.incident_at for f in facts.values() if f.incident_at), default=None)
            scored: dict[tuple[str, str], tuple[float, list[Contribution]]] = {}
            for report, fact in facts.items():
                suspect = suspect_of.get(report)
                scored[("report", str(report))] = score_report(
                    fact, people.get(suspect) if suspect else None, newest, self.settings
                )
            best: dict[tuple[str, str], tuple[float, list[Contribution], str]] = {}
            network_of = links.suspect_networks(conn)
            for report, suspect in suspect_of.items():
                score, parts = scored[("report", str(report))]
                for key in [("suspect", suspect)] + (
                    [("network", network_of[suspect])] if suspect in network_of else []
                ):
                    if key not in best or score > best[key][0]:
                        best[key] = (score, parts, str(report))
            for key, (score, parts, urgent) in best.items():
                scored[key] = (score, [("most_urgent_report", 0.0, urgent), *parts])
            pinned: set[tuple[str, str]] = set()
            for adjustment in adjustments:
                key = (adjustment.object_type, adjustment.object_id)
                if key not in scored:
                    continue
                score, parts = scored[key]
                if adjustment.action == "pin":
                    pinned.add(key)
                    parts = [*parts, ("analyst_pin", 0.0, f"{adjustment.actor}: {adjustment.reason}")]
                else:
                    score -= adjustment.points
                    parts = [*parts, ("analyst_lower", -adjustment.points, f"{adjustment.actor}: {adjustment.reason}")]
                scored[key] = (round(score, 2), parts)
            conn.execute(delete(priorities))
            # a generator: `insert_rows` takes and converts the rows a slice at a time (1 M reports' rows made whole,
            # then their JSON text, held ~1 GB)
            insert_rows(
                conn,
                priorities,
                ("object_type", "object_id", "score", "pinned", "factors", "run_id"),
                (
                    (kind, ident, *_priority(scored[kind, ident], (kind, ident) in pinned))
                    for kind, ident in sorted(scored)
                ),
            )
            priority_counts.refresh(conn)  # the queue's totals, committed with the priorities they count
            refresh_statistics(conn, {priorities.name: len(scored)})  # the whole table was written again
            summary = TriageSummary(
                reports=len(facts),
                suspects=sum(1 for k in scored if k[0] == "suspect"),
                networks=sum(1 for k in scored if k[0] == "network"),
                adjustments=len(adjustments),
                lead_hits=sum(1 for p in people.values() if p.lead_refs),
            )
            summary.top = queue(conn, "suspect", 5)
            uow.record(
                "triage.completed",
                "triage",
                "all",
                {
                    "reports": summary.reports,
                    "suspects": summary.suspects,
                    "networks": summary.networks,
                    "adjustments": summary.adjustments,
                    "settings": self.settings.as_dict(),
                },
            )
        return summary


def _priority(scored: tuple[float, list[Contribution]], pinned: bool) -> tuple[float, bool, list[list[Any]], int]:
    """A scored item's row after its key: score, pinned, its factors as JSON lists, the run (0)."""
    score, parts = scored
    return score, pinned, [list(p) for p in parts], 0


def queue(conn: Connection, level: str, limit: int) -> list[dict[str, Any]]:
    """The work queue: pinned first, then by score."""
    if level not in LEVELS:
        raise TipfusionError(f"level must be one of {', '.join(LEVELS)}")
    rows = conn.execute(
        select(priorities)
        .where(priorities.c.object_type == level)
        .order_by(priorities.c.pinned.desc(), priorities.c.score.desc(), priorities.c.object_id)
        .limit(limit)
    )
    return [{"id": row.object_id, "score": row.score, "pinned": row.pinned, "factors": row.factors} for row in rows]


def adjust(
    engine: Engine, actor: str, level: str, object_id: str, action: str, reason: str, points: float = 0.0
) -> int:
    """Pin or lower an item (audited); it applies from the next `tipfusion triage` and survives re-runs."""
    if level not in LEVELS:
        raise TipfusionError(f"level must be one of {', '.join(LEVELS)}")
    require_reason(reason, "a pin or a lowering")
    ensure_schema(engine)
    table = {"report": report_links, "suspect": suspects, "network": networks}[level]
    column = {"report": report_links.c.report_id, "suspect": suspects.c.suspect_id, "network": networks.c.network_id}[
        level
    ]
    with UnitOfWork(engine, actor) as uow:
        key: Any = int(object_id) if level == "report" and object_id.isdigit() else object_id
        if uow.conn.execute(select(column).select_from(table).where(column == key)).first() is None:
            raise NotFound(f"no {level} {object_id} (run tipfusion link first?)")
        number = record_decision(
            uow,
            triage_adjustments,
            f"triage.{action}",
            level,
            str(object_id),
            {"object_type": level, "object_id": str(object_id), "action": action, "points": points, "reason": reason},
            {"points": points, "reason": reason},
        )
    return number


__all__ = ["TriageService", "TriageSummary", "adjust", "lead_hits", "queue"]
