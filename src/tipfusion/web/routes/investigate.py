"""The objects an analyst opens: a report (every field, IP timeline, files as metadata, provenance, versions), a
suspect (as reported, identifiers and their sources, routing basis, cases), a network (its graph, every edge
explained, suppressed values, split / merge / mark-noise with a reason).

Scope is the services': the central unit opens everything; a station or district officer opens what a referral in
their scope covers; anything else is the not-found page (audited as denied). Every page shown is audited as a view.
The network graph's data is JSON at `/api/networks/{id}/graph` for the static script; the page lists the same edges
in HTML, so it reads without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import audit_view, page
from tipfusion.workplace import (
    NOISE_KINDS,
    OVERRIDE_ACTIONS,
    FieldErrors,
    ip_timeline,
    network_graph,
    network_page,
    override_link,
    report_page,
    suspect_page,
)
from tipfusion.workplace.analysis import OVERRIDING_ROLES

router = APIRouter()

Short = Annotated[str, Form(max_length=200)]
Reason = Annotated[str, Form(max_length=4000)]


@router.get("/reports/{report_id}", response_class=HTMLResponse, include_in_schema=False)
def report(request: Request, principal: CurrentPrincipal, engine: Engine, report_id: str) -> HTMLResponse:
    detail = report_page(engine, principal, report_id)
    audit_view(engine, principal, "report", detail["report_id"])
    versions = detail["versions"]
    current = next((v for v in versions if v.get("current")), versions[0] if versions else {})
    return page(
        request,
        "analyst/report.html",
        principal,
        detail=detail,
        current=current,
        timeline=ip_timeline(current),
        older=[v for v in versions if v is not current],
    )


@router.get("/suspects/{suspect_id}", response_class=HTMLResponse, include_in_schema=False)
def suspect(request: Request, principal: CurrentPrincipal, engine: Engine, suspect_id: str) -> HTMLResponse:
    profile = suspect_page(engine, principal, suspect_id)
    audit_view(engine, principal, "suspect", profile["suspect_id"])
    return page(
        request,
        "analyst/suspect.html",
        principal,
        profile=profile,
        may_refer=principal.role in OVERRIDING_ROLES,
        errors={},
        form={},
    )


def _network(
    request: Request,
    principal: Any,
    engine: Any,
    network_id: str,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    summary = network_page(engine, principal, network_id)
    graph = network_graph(engine, principal, network_id)
    audit_view(engine, principal, "network", summary.network_id)
    return page(
        request,
        "analyst/network.html",
        principal,
        status_code=status,
        net=summary,
        graph=graph,
        may_override=principal.role in OVERRIDING_ROLES,
        actions=OVERRIDE_ACTIONS,
        noise_kinds=NOISE_KINDS,
        errors=errors or {},
        form=form or {},
        done=done,
    )


@router.get("/networks/{network_id}", response_class=HTMLResponse, include_in_schema=False)
def network(
    request: Request, principal: CurrentPrincipal, engine: Engine, network_id: str, done: str | None = None
) -> HTMLResponse:
    return _network(request, principal, engine, network_id, done=done)


@router.get("/api/networks/{network_id}/graph", tags=["networks"])
def network_graph_api(principal: CurrentPrincipal, engine: Engine, network_id: str) -> JSONResponse:
    """The network as cytoscape.js elements (`data.explains` on every edge says why it exists), with the suppressed
    values seen in its reports and what the graph left out."""
    graph = network_graph(engine, principal, network_id)
    audit_view(engine, principal, "network", graph.network_id, {"graph": True})
    return JSONResponse(graph.as_dict())


@router.post("/networks/{network_id}/overrides", include_in_schema=False)
def network_override(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    network_id: str,
    action: Short,
    reason: Reason = "",
    kind: Short = "",
    value: Short = "",
    report_a: Short = "",
    report_b: Short = "",
) -> Response:
    """Split a report off, merge two reports, or mark a value noise — applied from the next `tipfusion link`."""
    form = {
        "action": action,
        "reason": reason,
        "kind": kind,
        "value": value,
        "report_a": report_a,
        "report_b": report_b,
    }
    try:
        number = override_link(
            engine,
            principal,
            action,
            reason,
            request.app.state.settings.profile.phone_region,
            kind=kind or None,
            value=value or None,
            report_a=report_a or None,
            report_b=report_b or None,
        )
    except FieldErrors as refused:
        return _network(request, principal, engine, network_id, refused.errors, form, status=422)
    return RedirectResponse(f"/networks/{quote(network_id)}?done={number}#overrides", status_code=303)
