"""The audit viewer: the log's entries filtered by who, what object and which action, paged in the database, and the
chain's verification (`tipfusion audit verify`) run for the page.

Only the auditor and the admin read the log: it names every object every user opened, which is itself need-to-know.
Reading the log is not audited here (the web layer's `audit_view` records the page); verifying it is, as
`audit.verified`, like the command line's `evidence.verified`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, or_, select

from tipfusion.accounts.policy import AUDIT_READERS  # as `tipfusion audit …`
from tipfusion.accounts.principal import Principal
from tipfusion.audit.checkpoints import CheckpointReport, verify_checkpoints
from tipfusion.audit.log import ChainReport, verify
from tipfusion.audit.unit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.store.tables import audit_events
from tipfusion.workplace.scope import require_roles


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the viewer's form asks for; empty fields do not filter. `action` matches the action itself or, given a
    family (`case`, `access`), every action in it (`case.acknowledged`, `access.denied`)."""

    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.actor.strip():
            clauses.append(audit_events.c.actor == self.actor.strip())
        if self.object_type.strip():
            clauses.append(audit_events.c.object_type == self.object_type.strip())
        if self.object_id.strip():
            clauses.append(audit_events.c.object_id == self.object_id.strip())
        action = self.action.strip().rstrip(".*")
        if action:
            family = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
            clauses.append(or_(audit_events.c.action == action, audit_events.c.action.like(family, escape="\\")))
        return clauses


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]  # newest first
    total: int  # entries matching the filter, across all pages
    limit: int
    offset: int
    filter: AuditFilter = field(default_factory=AuditFilter)


def audit_entries(
    engine: Engine, principal: Principal, wanted: AuditFilter | None = None, *, limit: int = 50, offset: int = 0
) -> AuditPage:
    """A page of the log, newest first, matching `wanted`."""
    wanted = wanted or AuditFilter()
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    with engine.connect() as conn:
        require_roles(conn, principal, AUDIT_READERS, "audit log")
        clauses = wanted.clauses()
        total = conn.execute(select(func.count()).select_from(audit_events).where(*clauses)).scalar_one()
        rows = conn.execute(
            select(audit_events).where(*clauses).order_by(audit_events.c.seq.desc()).limit(limit).offset(offset)
        ).all()
    entries = tuple(
        AuditEntry(int(r.seq), r.at, r.actor, r.action, r.object_type, r.object_id, dict(r.details or {}), str(r.hash))
        for r in rows
    )
    return AuditPage(entries, int(total), limit, offset, wanted)


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The chain and its checkpoints, as `tipfusion audit verify` checks them."""

    chain: ChainReport
    checkpoints: CheckpointReport
    keyed: bool  # whether a signing key was at hand to check the checkpoints' signatures

    @property
    def problems(self) -> list[str]:
        broken = (
            [] if self.chain.ok else [f"audit chain broken at entry {self.chain.first_broken}: {self.chain.problem}"]
        )
        return broken + list(self.checkpoints.problems)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit(engine: Engine, settings: Settings, principal: Principal) -> AuditCheck:
    """Walk the hash chain and hold it against its checkpoints (the configured key checks their signatures)."""
    from tipfusion.keys.signing import load_signer

    with engine.connect() as conn:
        require_roles(conn, principal, AUDIT_READERS, "audit verification", "audit.verify")
    signer = load_signer(settings)
    keys = [signer.public_key] if signer else []
    with engine.connect() as conn:
        chain = verify(conn)
        points = verify_checkpoints(conn, keys)
    check = AuditCheck(chain, points, bool(keys))
    with UnitOfWork(engine, principal.username) as uow:
        details = {"entries": chain.count, "head_hash": chain.head_hash, "ok": check.ok, "problems": check.problems}
        uow.record("audit.verified", "store", "audit_events", details)
    return check
