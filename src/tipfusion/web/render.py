"""Rendering pages: one `page()` that every route calls, so each page gets the same banner, menu, CSRF token and
time format, and one `audit_view()` so each view of an object or a list is on the audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tipfusion.accounts.principal import Principal, Role
from tipfusion.audit.journal import record_view
from tipfusion.audit.log import AuditEvent
from tipfusion.storage import Engine, is_synthetic

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class NavItem:
    """A menu entry: a route module lists its own in a module-level `NAV` (see `web.app.discover`)."""

    label: str
    href: str
    roles: frozenset[Role]
    order: int = 100  # lower first


ALL_ROLES = frozenset(Role)
INDIA = ZoneInfo("Asia/Kolkata")


def make_templates(zone: ZoneInfo) -> Jinja2Templates:
    """The Jinja2 environment (autoescape on for .html) with the `ist` filter for the unit's zone."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.autoescape = True
    env.filters["ist"] = lambda value: ist(value, zone)
    env.globals["ROLES"] = Role
    return templates


def ist(value: datetime | date | str | None, zone: ZoneInfo = INDIA) -> str:
    """A moment as evidence wants it: local time with its zone's name, and UTC beside it —
    "2026-12-03 19:05:00 IST (13:35:00 UTC)". A naive or missing value is shown as it is, never guessed."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S") + " (no zone given)"
    local = value.astimezone(zone)
    utc = value.astimezone(UTC)
    name = local.strftime("%Z") or local.strftime("UTC%z")
    day = "" if local.date() == utc.date() else utc.strftime("%Y-%m-%d ")
    return f"{local:%Y-%m-%d %H:%M:%S} {name} ({day}{utc:%H:%M:%S} UTC)"


def nav_for(request: Request, principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    items: list[NavItem] = request.app.state.nav
    return [item for item in items if principal.role in item.roles]


def page(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page that extends base.html, with what every page needs: the principal, the session's CSRF token
    (forms' hidden field; htmx's header via <body data-csrf>), the SYNTHETIC flag and the menu for the role."""
    from tipfusion.web.deps import current_session

    session = current_session(request) if principal is not None else None
    engine: Engine = request.app.state.engine
    values: dict[str, Any] = {
        "principal": principal,
        "csrf_token": session.csrf_token if session is not None else context.pop("csrf_token", ""),
        # read with the session when there is one (no round trip of its own on every page)
        "synthetic": is_synthetic(engine) if session is None or session.synthetic is None else session.synthetic,
        "nav": nav_for(request, principal),
        "path": request.url.path,
        "unit_name": request.app.state.settings.unit_name,
    }
    values.update(context)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def form_page(
    request: Request,
    template: str,
    principal: Principal | None,
    form: str | None,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page whose forms use `_forms.html`, shown fresh or again after a refusal: the form named `form` gets what
    was typed back (`values`) and each refused field its message beside it (`errors`, a service's `FieldErrors`).
    422 when something was refused, else 200, unless `status_code` says otherwise. One helper, so every page
    re-shows a refused form the same way."""
    code = status_code if status_code is not None else 422 if errors else 200
    return page(
        request,
        template,
        principal,
        status_code=code,
        current_form=form,
        current_errors=errors or {},
        current_values=values or {},
        **context,
    )


def audit_view(
    engine: Engine, principal: Principal, object_type: str, object_id: object, details: dict[str, Any] | None = None
) -> None:
    """Record that `principal` viewed an object (or a list: object_type "list", object_id its name and filters) —
    the `view.<object_type>` entry the command line writes too, with channel "web". Committed before this returns,
    in one transaction with the views other sessions make meanwhile (`audit.journal`: the chain has one writer)."""
    record_view(
        engine,
        principal.username,
        AuditEvent(f"view.{object_type}", object_type, str(object_id)[:200], {"channel": "web", **(details or {})}),
    )
