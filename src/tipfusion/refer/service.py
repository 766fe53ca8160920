"""Build referrals: for a suspect or a network, addressed where routing decided (or where the analyst says), stored
with a snapshot of what they said, each opening a case; a later package for the same open case is a supplementary
referral that says what changed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.documents.manifest import MANIFEST, digest_of, file_stem, part_path
from tipfusion.documents.staging import Staging, clear_leftovers
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.keys.signing import Signer, load_signer
from tipfusion.refer.dossier import Dossier, gather
from tipfusion.refer.guidance import checklist_for, load_statements, sections_for, statements_for
from tipfusion.refer.layout import Addressing
from tipfusion.refer.package import Issuer, write_package
from tipfusion.refer.subjects import resolve_target
from tipfusion.route.placement import placement_sql
from tipfusion.store import repository as repo
from tipfusion.store.current import rows_in
from tipfusion.store.db import ensure_schema, safe_url, serialise
from tipfusion.store.tables import (
    cases,
    operations,
    police_stations,
    priorities,
    referrals,
    routing_decisions,
)
from tipfusion.track.service import OPEN, changes_since, merged_snapshot, open_case


@dataclass(frozen=True)
class BuiltReferral:
    referral_id: int
    case_id: int
    reference: str
    kind: str
    subject_id: str
    station: str | None
    district: str | None
    folder: Path
    files: dict[str, str]
    manifest_sha256: str
    seconds: float
    key_fingerprint: str | None = None

    def part(self, suffix: str) -> Path:
        """A part of the sealed package by its suffix: `.pdf`, `.docx`, `.json`, `-annex.xlsx`, `-certificate.pdf`."""
        return part_path(self.folder, self.reference, suffix)


def _destination(conn: Connection, members: list[str], to: str | None) -> tuple[str | None, str | None]:
    if to:
        row = conn.execute(select(police_stations).where(police_stations.c.station_id == to)).first()
        if row is not None:
            return row.district, row.station_id
        districts = {r[0] for r in conn.execute(select(police_stations.c.district))}
        if to in districts:
            return to, None
        raise NotFound(f"no station or district {to!r} in the jurisdiction (see `tipfusion jurisdictions list`)")
    rows = rows_in(conn, select(routing_decisions), routing_decisions.c.suspect_id, members)
    if not rows:
        return None, None  # not routed: the central unit holds it
    if any(r.network_central for r in rows):
        return None, None
    districts = {r.district for r in rows}
    stations = {r.station for r in rows}
    if len(stations) == 1 and None not in stations:
        return rows[0].district, rows[0].station
    if len(districts) == 1 and None not in districts:
        return rows[0].district, None
    return None, None


def _operation_for(conn: Connection, name: str | None, at: datetime) -> str | None:
    if name:
        if conn.execute(select(operations.c.name).where(operations.c.name == name)).first() is None:
            raise NotFound(f"no operation {name!r} (create it with `tipfusion operation create`)")
        return name
    row = conn.execute(
        select(operations.c.name)
        .where(operations.c.starts_at <= at, operations.c.ends_at >= at)
        .order_by(operations.c.starts_at.desc())
    ).first()
    return row.name if row else None


def _open_referral(conn: Connection, subject_type: str, subject_id: str) -> Any:
    return conn.execute(
        select(referrals, cases.c.id.label("case_id"))
        .join(cases, cases.c.referral_id == referrals.c.id)
        .where(
            referrals.c.subject_type == subject_type,
            referrals.c.subject_id == subject_id,
            referrals.c.kind == "initial",
            cases.c.state.in_(OPEN),
        )
        .order_by(referrals.c.id.desc())
    ).first()


def _next_reference(conn: Connection, prefix: str, at: datetime, parent: Any) -> str:
    """`<prefix>/<year>/000042` numbers initial referrals only: a supplementary one is `<its parent>/S1`, and
    counting it too would make the year's numbers skip."""
    if parent is not None:
        count = conn.execute(select(func.count()).where(referrals.c.parent_id == parent.id)).scalar_one()
        return f"{parent.reference}/S{int(count) + 1}"
    stem = f"{prefix}/{at:%Y}/"
    count = conn.execute(
        select(func.count()).where(
            referrals.c.kind == "initial", referrals.c.reference.startswith(stem, autoescape=True)
        )
    ).scalar_one()
    return f"{stem}{int(count) + 1:06d}"


def _recorded(conn: Connection, manifest_sha256: str) -> bool:
    found = select(referrals.c.id).where(referrals.c.manifest_sha256 == manifest_sha256)
    return conn.execute(found).first() is not None


def complete(dossier: Dossier, settings: Settings, statements: list[dict[str, Any]], sent: datetime) -> None:
    dossier.statements = statements_for(dossier, statements)
    dossier.sections = sections_for(dossier, settings.profile.country)
    dossier.checklist = checklist_for(
        dossier,
        sent.astimezone(settings.profile.zone),
        settings.case_deadlines.acknowledge_hours,
        settings.case_deadlines.fir_days,
        settings.unit,
    )


def build_referral(
    engine: Engine,
    settings: Settings,
    actor: str,
    target: str,
    output: Path,
    to: str | None = None,
    operation: str | None = None,
    statements: list[dict[str, Any]] | None = None,
    signer: Signer | None = None,
) -> BuiltReferral:
    """Build one package (initial, or supplementary when the subject has an open case) and store it.

    The package is signed with `signer`, or with the configured key when none is passed.
    """
    started = time.perf_counter()
    ensure_schema(engine)
    statements = statements if statements is not None else load_statements(settings.referral_statements)
    signer = signer if signer is not None else load_signer(settings)
    issuer = Issuer(settings.issuing_officer, safe_url(settings.database_url), signer)
    zone = settings.profile.zone
    # the package is written aside and takes its name once the transaction has committed (documents.staging)
    with Staging() as staging, UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        # one build at a time: references are numbered in order, and only then are leftovers safe to clear
        serialise(conn, "referral builds")
        clear_leftovers(output, lambda work, _name: _recorded(conn, digest_of(work / MANIFEST)))
        subject_type, subject_id, members = resolve_target(conn, target)
        if not members:
            raise TipfusionError(f"{subject_type} {subject_id} has no suspects to refer")
        stamp = repo.now()
        parent = _open_referral(conn, subject_type, subject_id)
        changes = None
        if parent is not None:
            changes = changes_since(conn, merged_snapshot(conn, int(parent.id)))
            if not any(changes.values()):
                raise TipfusionError(
                    f"{subject_type} {subject_id} already has an open case ({parent.reference}, case {parent.case_id}) "
                    "and nothing new has arrived since; no supplementary referral is needed"
                )
            district, station = parent.district, parent.station
            row = conn.execute(select(cases.c.district, cases.c.station).where(cases.c.id == parent.case_id)).first()
            if row is not None:
                district, station = row.district, row.station  # where the case is now (it may have been transferred)
        else:
            district, station = _destination(conn, members, to)
        synthetic = repo.get_flag(conn, "synthetic") == "true"
        dossier = gather(conn, subject_type, subject_id, members, zone)
        complete(dossier, settings, statements, stamp)
        reference = _next_reference(conn, settings.referral_prefix, stamp.astimezone(zone), parent)
        addressing = Addressing(
            reference=reference,
            date=stamp.astimezone(zone),
            unit=settings.unit,
            station=station,
            district=district,
            kind="supplementary" if parent is not None else "initial",
            parent_reference=parent.reference if parent is not None else None,
            changes=changes,
            key_fingerprint=signer.fingerprint if signer else None,
        )
        folder = output / file_stem(reference)
        templates = Path(settings.templates_dir) if settings.templates_dir else None
        sealed = write_package(dossier, addressing, staging.begin(folder), synthetic, issuer, templates)
        digests, manifest_sha = sealed.files, sealed.manifest_sha256
        referral_id = int(
            conn.execute(
                insert(referrals)
                .values(
                    reference=reference,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    suspects=members,
                    district=district,
                    station=station,
                    operation=_operation_for(conn, operation, stamp) if parent is None else parent.operation,
                    kind=addressing.kind,
                    parent_id=parent.id if parent is not None else None,
                    built_at=stamp,
                    output_dir=str(folder),
                    files=digests,
                    manifest_sha256=manifest_sha,
                    snapshot=dossier.snapshot(),
                    actor=actor,
                )
                .returning(referrals.c.id)
            ).scalar_one()
        )
        if parent is None:
            case_id = open_case(uow, referral_id, district, station, len(members), stamp)
        else:
            case_id = int(parent.case_id)
            conn.execute(cases.update().where(cases.c.id == case_id).values(needs_update=None, updated_at=stamp))
        uow.record(
            "referral.built",
            "referral",
            reference,
            {
                "subject": subject_id,
                "station": station,
                "district": district,
                "kind": addressing.kind,
                "case": case_id,
                "manifest_sha256": manifest_sha,
                "signed_by": sealed.key_fingerprint,
                "folder": str(folder),
            },
        )
    return BuiltReferral(
        referral_id,
        case_id,
        reference,
        addressing.kind,
        subject_id,
        station,
        district,
        folder,
        digests,
        manifest_sha,
        time.perf_counter() - started,
        sealed.key_fingerprint,
    )


def top_subjects(engine: Engine, count: int, routed_only: bool = False, include_central: bool = True) -> list[str]:
    """The queue's top suspects that have no referral yet: only those routed to a station if `routed_only`; only
    those routing placed at a station or a district (see `route.placement`) unless `include_central`."""
    with engine.connect() as conn:
        referred = {r[0] for r in conn.execute(select(referrals.c.subject_id))}
        query = select(priorities.c.object_id).where(priorities.c.object_type == "suspect")
        if routed_only or not include_central:
            wanted = ["station"] if routed_only else ["station", "district"]
            query = query.join(routing_decisions, routing_decisions.c.suspect_id == priorities.c.object_id).where(
                placement_sql().in_(wanted)
            )
        rows = conn.execute(
            query.order_by(priorities.c.pinned.desc(), priorities.c.score.desc(), priorities.c.object_id).limit(
                count + len(referred)
            )
        ).all()
    return [r[0] for r in rows if r[0] not in referred][:count]


def build_many(
    engine: Engine,
    settings: Settings,
    actor: str,
    targets: list[str],
    output: Path,
    to: str | None = None,
    operation: str | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> list[BuiltReferral]:
    """One package per target, in order; `progress(target, done, total)` is told before each one."""
    statements = load_statements(settings.referral_statements)
    signer = load_signer(settings)
    built = []
    for done, target in enumerate(targets):
        if progress is not None:
            progress(target, done, len(targets))
        built.append(build_referral(engine, settings, actor, target, output, to, operation, statements, signer))
    return built


def referral_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(referrals).order_by(referrals.c.id)).all()
    return [
        {
            "reference": r.reference,
            "kind": r.kind,
            "subject": r.subject_id,
            "suspects": len(r.suspects or []),
            "district": r.district or "",
            "station": r.station or "",
            "operation": r.operation or "",
            "built_at": r.built_at.isoformat(),
            "folder": r.output_dir,
        }
        for r in rows
    ]
