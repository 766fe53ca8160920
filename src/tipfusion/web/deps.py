"""FastAPI dependencies every route uses: the engine, the logged-in principal, role checks and CSRF.

Pages (`/…`) authenticate with the session cookie and send a visitor without one to `/login?next=…`; the JSON API
(`/api/…`) authenticates with `Authorization: Bearer <token>` (or the session cookie, for htmx calls from a page) and
answers 401. A principal whose role may not use a page gets the same 404 as a missing object: existence is not
revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from tipfusion.accounts.principal import Principal, Role
from tipfusion.accounts.service import Session, principal_for_token, resume_session, same_token
from tipfusion.errors import NotFound
from tipfusion.storage import Engine as StoreEngine
from tipfusion.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = frozenset({"/login"})  # the login form has no session yet: it checks its own token (double submit)
_UNSET = object()


class LoginRequired(Exception):
    """No valid session on a page: the app answers with a redirect to the login page (see `app`)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def engine(request: Request) -> StoreEngine:
    """The application's one engine (its store brought to the schema head at start)."""
    found: StoreEngine = request.app.state.engine
    return found


Engine = Annotated[StoreEngine, Depends(engine)]


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def current_session(request: Request) -> Session | None:
    """The session the cookie opens (looked up once per request), or None."""
    if getattr(request.state, "tf_session", _UNSET) is _UNSET:
        token = request.cookies.get(SESSION_COOKIE, "")
        found = resume_session(request.app.state.engine, token, policy=request.app.state.policy) if token else None
        request.state.tf_session = found
    session: Session | None = request.state.tf_session
    return session


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal(request: Request) -> Principal:
    """The logged-in account. A page without a session redirects to the login page; the API answers 401."""
    if is_api(request):
        token = bearer_token(request)
        if token is not None:
            principal = principal_for_token(request.app.state.engine, token)
            if principal is None:
                raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
            request.state.tf_bearer = True
            return principal
    session = current_session(request)
    if session is not None:
        return session.principal
    if is_api(request):
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(target)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def RequireRole(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits only these roles; any other gets the 404 page (not 403: existence is not revealed).

    Use: `principal: Annotated[Principal, Depends(RequireRole(Role.ANALYST, Role.ADMIN))]`.
    """
    allowed = frozenset(roles)

    def require(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise NotFound("no such page")
        return principal

    return require


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


async def csrf_protect(request: Request) -> None:
    """Refuse (403) a state change without this session's token: the `X-CSRF-Token` header (htmx) or the form's
    hidden `csrf_token` field. A bearer-token API call carries no cookie, so it needs no token."""
    if request.method in SAFE_METHODS or request.url.path in CSRF_EXEMPT:
        return
    if is_api(request) and bearer_token(request) is not None and SESSION_COOKIE not in request.cookies:
        return
    session = current_session(request)
    if session is None:
        raise HTTPException(403, "the form has expired: reload the page and try again")
    given = request.headers.get(CSRF_HEADER)
    if given is None and _is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(session.csrf_token, given):
        raise HTTPException(403, "the form has expired or did not come from this site: reload the page and try again")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


CsrfProtect = Depends(csrf_protect)
"""The app applies it to every route (`create_app`); a route may name it too, for readers."""
