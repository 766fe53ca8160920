"""`create_app(settings)`: the FastAPI application over one store.

Every module in `web/routes/` with a module-level `router` is included (found with pkgutil), so a new area of pages is
a new file; its optional `NAV` adds menu entries. Security (headers, CSRF on every state change, body size limit)
and error pages are set up here once for all routes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tipfusion.accounts.service import Policy
from tipfusion.config import Settings, load_settings
from tipfusion.errors import NotFound
from tipfusion.storage import ensure_schema, make_engine
from tipfusion.web import routes
from tipfusion.web.deps import LoginRequired, csrf_protect, current_session, is_api, login_url
from tipfusion.web.render import NavItem, make_templates, page
from tipfusion.web.security import UPLOAD_LIMIT, BodyLimit, SecurityHeaders, secure_cookies_default

STATIC = Path(__file__).parent / "static"


def discover() -> list[ModuleType]:
    """Every module under `web/routes/` that defines `router` (in name order, for a stable menu and OpenAPI)."""
    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        if getattr(module, "router", None) is not None:
            found.append(module)
    return found


def create_app(
    settings: Settings,
    *,
    secure_cookies: bool | None = None,
    policy: Policy | None = None,
    upload_limit: int = UPLOAD_LIMIT,
) -> FastAPI:
    """The application over `settings.database_url` (its schema brought to head now, not at the first request).

    `secure_cookies` (default: TIPFUSION_SECURE_COOKIES) marks cookies Secure and sends HSTS: set it when a TLS
    reverse proxy fronts the app. `policy` (default: the settings' `[sessions]`) sets idle timeout, session
    lifetime, account lockout and per-address login throttling.
    """
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    app = FastAPI(
        title="tipfusion",
        summary="CyberTipline reports → suspects, networks, referrals. Metadata only, offline.",
        docs_url=None,  # the interactive docs load from a CDN; the schema is at /api/openapi.json
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.policy = policy or settings.tuning().sessions.policy()
    app.state.secure_cookies = secure_cookies_default() if secure_cookies is None else secure_cookies
    app.state.templates = make_templates(settings.profile.zone)
    app.state.upload_limit = upload_limit
    # the folders packages and notices are written to (`[referrals] output_dir`, `[requests] output_dir`), fixed at
    # start so a relative one does not follow a later change of directory
    app.state.referrals_dir = Path(settings.referrals_dir).absolute()
    app.state.requests_dir = Path(settings.requests_dir).absolute()
    nav: list[NavItem] = []
    for module in discover():
        app.include_router(module.router)
        nav.extend(getattr(module, "NAV", []))
    app.state.nav = sorted(nav, key=lambda item: (item.order, item.label))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _error_pages(app)
    app.add_middleware(BodyLimit, limit=upload_limit)
    app.add_middleware(SecurityHeaders, secure=app.state.secure_cookies)
    return app


def app_from_environment() -> FastAPI:
    """The application as each `tipfusion serve --workers N` process builds it (uvicorn imports it by name): the
    settings from the TIPFUSION_* environment the command prepared. Each worker has its own engine; sessions, CSRF
    secrets and login throttling live in the store, so a login holds whichever worker answers."""
    return create_app(load_settings())


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc) or "not found")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(404)
    async def _missing(request: Request, _exc: Exception) -> Response:
        """A path no route serves: a visitor who is not logged in is sent to log in (which pages exist is not told
        to strangers)."""
        if not is_api(request) and current_session(request) is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(login_url(target), status_code=303)
        return _error(request, 404, "not found")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return _error(request, 422, problems or "the request is not valid")


def jsonable(errors: Any) -> Any:
    """Validation errors without the offending input (it may be personal data)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def _error(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    if is_api(request):
        return JSONResponse({"detail": message}, status_code=status, headers=dict(headers or {}))
    session = current_session(request)
    principal = session.principal if session is not None else None
    titles = {403: "Refused", 404: "Not found", 413: "Too large", 422: "Not valid", 401: "Log in"}
    response = page(
        request, "error.html", principal, status_code=status, title=titles.get(status, "Error"), message=message
    )
    if headers:
        response.headers.update(headers)
    return response
