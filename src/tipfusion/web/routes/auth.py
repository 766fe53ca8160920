"""Log in, log out, and the start page that sends each role to its first menu entry."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tipfusion.accounts.service import (
    AuthenticationFailed,
    ClientThrottled,
    authenticate,
    close_session,
    open_session,
    same_token,
)
from tipfusion.web.deps import CurrentPrincipal, current_session
from tipfusion.web.render import nav_for, page
from tipfusion.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def _local(next_url: str | None) -> str:
    """Only a path on this site (never `//host` or a scheme), so the login cannot be used to send people away."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return "/"
    return next_url


def _login_page(request: Request, next_url: str, error: str | None = None, status: int = 200) -> Response:
    # one token per browser until it logs in: a second tab (or a stray request) must not void the first form
    kept = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = kept if 40 <= len(kept) <= 64 and kept.replace("-", "").replace("_", "").isalnum() else ""
    token = token or secrets.token_urlsafe(32)
    response = page(
        request, "login.html", None, status_code=status, csrf_token=token, next_url=_local(next_url), error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_session(request) is not None:
        return RedirectResponse(_local(next), status_code=303)
    return _login_page(request, next)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=2048)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_token(expected, csrf_token):
        return _login_page(request, next, "The form expired. Please log in again.", status=403)
    engine = request.app.state.engine
    client = request.client.host if request.client else None  # behind a proxy: its X-Forwarded-For (serve)
    try:
        account = authenticate(
            engine, username, password, policy=request.app.state.policy, channel="web", client=client
        )
    except ClientThrottled:
        return _login_page(
            request, next, "Too many failed logins from this address. Please wait and try again later.", status=429
        )
    except AuthenticationFailed:
        return _login_page(
            request, next, "Wrong username or password, or the account is locked or disabled.", status=401
        )
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        close_session(engine, old)
    token, _session = open_session(engine, account, "web")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies, path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Ends the session on the server (the cookie alone is worth nothing afterwards). CSRF-checked like every POST."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        close_session(request.app.state.engine, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/")
def home(request: Request, principal: CurrentPrincipal) -> Response:
    """The first page of the role's menu; a role without pages yet sees a short welcome."""
    items = nav_for(request, principal)
    if items:
        return RedirectResponse(items[0].href, status_code=303)
    return page(request, "home.html", principal)
