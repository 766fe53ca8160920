"""The auditor's page: the audit log filtered by user, object and action, paged, and the chain verified on request
(`tipfusion audit verify`, from the page). Admins see it too; every other role gets the 404 page (audited by the
service)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tipfusion.accounts.policy import AUDIT_READERS
from tipfusion.accounts.principal import Principal
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace.auditing import AuditCheck, AuditFilter, audit_entries, verify_audit

router = APIRouter(include_in_schema=False)
NAV = [NavItem("Audit log", "/audit", AUDIT_READERS, order=6)]
PAGE_SIZE = 50
Field = Annotated[str, Query(max_length=200)]


def _audit_page(
    request: Request, principal: Principal, engine: Any, wanted: AuditFilter, page_number: int, check: AuditCheck | None
) -> Response:
    found = audit_entries(engine, principal, wanted, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    audit_view(
        engine,
        principal,
        "list",
        "audit log",
        {
            "actor": wanted.actor,
            "object_type": wanted.object_type,
            "object_id": wanted.object_id,
            "action": wanted.action,
            "page": page_number,
        },
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    asked = {
        "actor": wanted.actor,
        "object_type": wanted.object_type,
        "object_id": wanted.object_id,
        "action": wanted.action,
    }
    query = urlencode({k: v for k, v in asked.items() if v})
    return page(
        request,
        "audit/log.html",
        principal,
        found=found,
        wanted=wanted,
        page_number=page_number,
        pages=pages,
        query=query,
        check=check,
    )


@router.get("/audit")
def audit_log(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    actor: Field = "",
    object_type: Field = "",
    object_id: Field = "",
    action: Field = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    wanted = AuditFilter(actor, object_type, object_id, action)
    return _audit_page(request, principal, engine, wanted, page_number, None)


@router.post("/audit/verify")
def audit_verify(request: Request, principal: CurrentPrincipal, engine: Engine) -> Response:
    """Walk the whole chain and its checkpoints now; the result is shown above the newest entries."""
    check = verify_audit(engine, request.app.state.settings, principal)
    return _audit_page(request, principal, engine, AuditFilter(), 1, check)
