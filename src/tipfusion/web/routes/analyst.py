"""The analyst's morning: today (intake, queue depth, what is late, running operations) and the work queue.

Thin: the scope (central roles only; everyone else gets the not-found page, audited) and every number come from
`tipfusion.workplace`; each page is audited as a view of its list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tipfusion.accounts.principal import CENTRAL_ROLES
from tipfusion.track.lifecycle import STATES
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace import analyst_today, work_queue
from tipfusion.workplace.queue import Band, Level, PlacementFilter, QueueSort

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("Today", "/today", CENTRAL_ROLES, order=10),
    NavItem("Queue", "/queue", CENTRAL_ROLES, order=11),
]

PAGE_SIZE = 50
REFERRAL_STATE_CHOICES = ("unreferred", "open", *STATES)


@router.get("/today", response_class=HTMLResponse)
def today(
    request: Request, principal: CurrentPrincipal, engine: Engine, days: int = Query(7, ge=1, le=60)
) -> HTMLResponse:
    board = analyst_today(engine, request.app.state.settings, principal, days=days)
    audit_view(engine, principal, "list", "today", {"days": days})
    peak = max([d.reports for d in board.intake] + [1])
    return page(request, "analyst/today.html", principal, board=board, peak=peak, days=days)


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    level: Level = "suspect",
    band: Annotated[Band | None, Query()] = None,
    district: Annotated[str | None, Query(max_length=200)] = None,
    placement: Annotated[PlacementFilter | None, Query()] = None,
    referral_state: Annotated[str | None, Query(max_length=40)] = None,
    sort: QueueSort = "priority",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    wanted_state = referral_state if referral_state in REFERRAL_STATE_CHOICES else None
    filters = {
        "level": level,
        "band": band,
        "district": district or None,
        "placement": placement,
        "referral_state": wanted_state,
        "sort": sort,
    }
    result = work_queue(
        engine,
        principal,
        level=level,
        band=band,
        district=district or None,
        placement=placement,
        referral_state=wanted_state,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    audit_view(engine, principal, "list", "queue", {**filters, "page": page_number})
    pages = max(1, -(-result.total // PAGE_SIZE))  # shown only when the total is exact (`result.exact`)
    shown = {k: v for k, v in filters.items() if v}
    return page(
        request,
        "analyst/queue.html",
        principal,
        result=result,
        filters=filters,
        shown=shown,
        page_number=page_number,
        pages=pages,
        states=REFERRAL_STATE_CHOICES,
    )
