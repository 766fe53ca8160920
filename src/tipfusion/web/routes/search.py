"""Search by any identifier — a phone in any format, an email, IP, username, hash, device ID or NCMEC report number —
as a page and as `/api/search` (token or session).

The value is read as every kind it could be (`tipfusion.search`); the central unit searches the whole store, anyone
else is refused as not found (audited, in the service). Each search is audited with the value asked for.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from tipfusion.accounts.principal import CENTRAL_ROLES
from tipfusion.search import SEARCH_KINDS
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace import FieldErrors, ensure_may_search, find

router = APIRouter()
NAV = [NavItem("Search", "/search", CENTRAL_ROLES, order=12)]

Text = Annotated[str, Query(max_length=500)]


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(
    request: Request, principal: CurrentPrincipal, engine: Engine, q: Text = "", kind: Text = ""
) -> HTMLResponse:
    context: dict[str, Any] = {"q": q, "kind": kind, "kinds": SEARCH_KINDS, "result": None, "errors": {}}
    if not q.strip() and not kind:
        ensure_may_search(engine, principal)  # the empty form is central work too
        return page(request, "analyst/search.html", principal, **context)
    try:
        result = find(engine, principal, q, request.app.state.settings.profile.phone_region, kind or None)
    except FieldErrors as refused:
        return page(request, "analyst/search.html", principal, status_code=422, **{**context, "errors": refused.errors})
    audit_view(engine, principal, "search", q.strip(), {"kind": kind or None, "reports": len(result.reports)})
    return page(request, "analyst/search.html", principal, **{**context, "result": result})


@router.get("/api/search", tags=["search"])
def search_api(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    q: Text,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> JSONResponse:
    """Every report, suspect, network, lead and ISP answer holding the value (each sighting with whose it is).

    422 with `{"detail": {"q" | "kind": message}}` when the value is blank or the kind unknown; 404 for a role that
    may not search.
    """
    try:
        result = find(engine, principal, q, request.app.state.settings.profile.phone_region, kind or None, limit)
    except FieldErrors as refused:
        return JSONResponse({"detail": refused.errors}, status_code=422)
    audit_view(engine, principal, "search", q.strip(), {"kind": kind, "reports": len(result.reports), "api": True})
    return JSONResponse(jsonable(result.as_dict()))


def jsonable(value: Any) -> Any:
    """Dataclass dicts with times as ISO text (the search's rows are plain already; leads may carry dates)."""
    from datetime import date, datetime

    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
