"""What a referral or an export is about: a suspect or a network found by any name it has had, or a referral's
subject, gathered into its dossier.

Apart from building (`refer.service`): `export referral --format stix` and `export chart` read a subject, and load
neither the PDF, Word and Excel writers nor linking.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from tipfusion.config import Settings
from tipfusion.errors import NotFound, TipfusionError
from tipfusion.exports.content import Subject
from tipfusion.refer.dossier import gather
from tipfusion.store import repository as repo
from tipfusion.store.links import resolve_id
from tipfusion.store.tables import networks, referrals, suspects


def resolve_target(conn: Connection, target: str) -> tuple[str, str, list[str]]:
    """(subject type, current id, suspect ids) for a suspect or network id (old ids follow their aliases)."""
    current = resolve_id(conn, target.strip())
    members = [r[0] for r in conn.execute(select(suspects.c.suspect_id).where(suspects.c.network_id == current))]
    if conn.execute(select(networks.c.network_id).where(networks.c.network_id == current)).first() is not None:
        return "network", current, sorted(members)
    if conn.execute(select(suspects.c.suspect_id).where(suspects.c.suspect_id == current)).first() is not None:
        return "suspect", current, [current]
    raise NotFound(f"no suspect or network {target!r} (ids look like S242000123 / N242000001; run `tipfusion link`)")


def interop_subject(engine: Engine, settings: Settings, target: str) -> Subject:
    """A suspect, a network or a referral (by its reference), gathered for MISP or STIX (`export referral`)."""
    with engine.connect() as conn:
        row = conn.execute(select(referrals).where(referrals.c.reference == target)).first()
        reference = row.reference if row is not None else None
        if row is not None:
            subject_type, subject_id, members = row.subject_type, row.subject_id, list(row.suspects)
        else:
            subject_type, subject_id, members = resolve_target(conn, target)
        synthetic = repo.get_flag(conn, "synthetic") == "true"
        dossier = gather(conn, subject_type, subject_id, members, settings.profile.zone)
    return Subject(f"{subject_type} {subject_id}", dossier, reference, settings.unit_name, synthetic)


def interop_export(engine: Engine, settings: Settings, target: str, fmt: str) -> dict[str, Any]:
    """A MISP event or a STIX 2.1 bundle for a suspect, a network or a referral (by its reference), as a mapping."""
    from tipfusion.refer.interop import misp_event, stix_bundle, validate_misp

    subject = interop_subject(engine, settings, target)
    if fmt == "misp":
        event = misp_event(subject.dossier, subject.reference, subject.synthetic)
        validate_misp(event)
        return event
    if fmt == "stix":
        return stix_bundle(subject.dossier, subject.reference, subject.unit_name, subject.synthetic)
    raise TipfusionError(f"unknown format {fmt!r}: expected misp or stix")
