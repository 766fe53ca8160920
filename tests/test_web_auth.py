"""The web application's accounts and security, on SQLite and PostgreSQL: login (right and wrong), lockout after
repeated failures, idle timeout, logout, CSRF on every state change, cookie flags, security headers on every
response, the redirect to the login page, the API's 401 and bearer tokens, and a wrong role's 404."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import FIXTURES
from tests.web_support import DEMO_PASSWORD, WebStore, assert_valid_html, csrf_of, login
from tipfusion import clock
from tipfusion.accounts.principal import Role
from tipfusion.accounts.service import DEFAULT_POLICY, create_user, issue_token, set_disabled
from tipfusion.store import repository as repo
from tipfusion.store.tables import audit_events, user_sessions, users
from tipfusion.web.security import CSP

BASE = "http://127.0.0.1"


def fresh(web_app: Any) -> TestClient:
    return TestClient(web_app, base_url=BASE)


def new_account(store: WebStore, role: Role = Role.ANALYST) -> str:
    """An account of its own for a test that changes it (lockout, disabling), so the module's accounts stay usable."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    create_user(store.engine, "builder", name, DEMO_PASSWORD, role)
    return name


def test_login_sets_a_strict_httponly_session_and_logout_ends_it(web_app: Any, web_store: WebStore) -> None:
    client = fresh(web_app)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    response = login(client, "analyst")
    assert response.status_code == 200
    cookie = next(h for h in response.history[0].headers.get_list("set-cookie") if h.startswith("tf_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    token = client.cookies["tf_session"]
    with web_store.engine.connect() as conn:  # only the token's digest is stored
        stored = list(conn.execute(select(user_sessions.c.token_hash)).scalars())
    assert token not in stored and len(stored[0]) == 64
    page = client.get("/")
    assert "analyst" in page.text and 'id="synthetic-banner"' in page.text
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("tf_session", token)  # the old cookie is worth nothing after logout
    assert client.get("/", follow_redirects=False).status_code == 303
    with web_store.engine.connect() as conn:
        actions = set(conn.execute(select(audit_events.c.action).where(audit_events.c.actor == "analyst")).scalars())
    assert {"account.login", "account.logout"} <= actions


def test_the_synthetic_banner_follows_the_store_flag_on_every_request(web_app: Any, web_store: WebStore) -> None:
    """The flag is read with the session on each request (never kept from an earlier one): a store's banner changes
    on the next page of an open session."""
    client = fresh(web_app)
    login(client, "analyst")
    assert 'id="synthetic-banner"' in client.get("/queue").text
    try:
        with web_store.engine.begin() as conn:
            repo.set_flag(conn, "synthetic", "false")
        assert 'id="synthetic-banner"' not in client.get("/queue").text
    finally:
        with web_store.engine.begin() as conn:
            repo.set_flag(conn, "synthetic", "true")
    assert 'id="synthetic-banner"' in client.get("/queue").text


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_name(web_app: Any) -> None:
    wrong = login(fresh(web_app), "analyst", "not-the-password")
    unknown = login(fresh(web_app), "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password" in wrong.text and "not-the-password" not in wrong.text
    assert wrong.text.count("Wrong username") == unknown.text.count("Wrong username") == 1


def test_repeated_failures_lock_the_account_even_for_the_right_password(web_app: Any, web_store: WebStore) -> None:
    name = new_account(web_store)
    for _ in range(DEFAULT_POLICY.max_failures):
        assert login(fresh(web_app), name, "wrong password 123").status_code == 401
    assert login(fresh(web_app), name).status_code == 401  # locked: the right password does not help
    with web_store.engine.connect() as conn:
        locked_until = conn.execute(select(users.c.locked_until).where(users.c.username == name)).scalar_one()
        actions = list(conn.execute(select(audit_events.c.action).where(audit_events.c.object_id == name)).scalars())
    assert locked_until > clock.now() + DEFAULT_POLICY.lockout - timedelta(minutes=1)
    assert actions.count("account.locked") == 1
    with web_store.engine.begin() as conn:  # the lock runs out
        conn.execute(update(users).where(users.c.username == name).values(locked_until=clock.now()))
    assert login(fresh(web_app), name).status_code == 200


def test_an_idle_session_ends(web_app: Any, web_store: WebStore) -> None:
    name = new_account(web_store)
    client = fresh(web_app)
    login(client, name)
    assert client.get("/", follow_redirects=False).status_code in (200, 303)
    assert "/login" not in client.get("/", follow_redirects=False).headers.get("location", "")
    idle = clock.now() - DEFAULT_POLICY.idle_timeout - timedelta(minutes=1)
    with web_store.engine.begin() as conn:
        user_id = select(users.c.id).where(users.c.username == name).scalar_subquery()
        conn.execute(update(user_sessions).where(user_sessions.c.user_id == user_id).values(last_seen=idle))
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_disabling_an_account_ends_its_sessions(web_app: Any, web_store: WebStore) -> None:
    name = new_account(web_store)
    client = fresh(web_app)
    login(client, name)
    set_disabled(web_store.engine, "builder", name)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login(fresh(web_app), name).status_code == 401


def test_a_state_change_without_the_csrf_token_is_refused(web_app: Any, client_for: Any) -> None:
    client = client_for("analyst")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": "forged"}, follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code in (200, 303)  # still logged in
    assert client.post("/logout", headers={"X-CSRF-Token": client.csrf}, follow_redirects=False).status_code == 303
    # the login form's own token (before any session): a post without it is refused
    anonymous = fresh(web_app)
    refused = anonymous.post("/login", data={"username": "analyst", "password": DEMO_PASSWORD})
    assert refused.status_code == 403 and "tf_session" not in anonymous.cookies


@pytest.mark.parametrize("path", ["/login", "/", "/static/app.css", "/no-such-page", "/api/me", "/api/openapi.json"])
def test_every_response_carries_the_security_headers(web_app: Any, path: str) -> None:
    response = fresh(web_app).get(path, follow_redirects=False)
    headers = response.headers
    assert headers["content-security-policy"] == CSP and "'unsafe-inline'" not in CSP
    assert "frame-ancestors 'none'" in CSP and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"
    assert "server" not in headers or "uvicorn" not in headers["server"]


def test_secure_cookies_behind_tls(web_store: WebStore) -> None:
    from tipfusion.web.app import create_app

    app = create_app(web_store.settings, secure_cookies=True)
    client = TestClient(app, base_url="https://127.0.0.1")
    response = login(client, "analyst")
    cookie = next(h for h in response.history[0].headers.get_list("set-cookie") if h.startswith("tf_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")
    app.state.engine.dispose()


def test_pages_redirect_to_login_and_the_api_answers_401(web_app: Any) -> None:
    client = fresh(web_app)
    response = client.get("/queue?page=2", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/queue%3Fpage%3D2"
    api = client.get("/api/me")
    assert api.status_code == 401 and api.json() == {"detail": "authentication required"}
    assert client.get("/api/me", headers={"Authorization": "Bearer tfa_not-a-token"}).status_code == 401


def test_a_login_never_sends_people_to_another_site(web_app: Any) -> None:
    client = fresh(web_app)
    form = client.get("/login?next=//evil.example.com/x")
    assert "evil.example.com" not in form.text
    token = csrf_of(form.text)
    data = {"username": "analyst", "password": DEMO_PASSWORD, "csrf_token": token, "next": "https://evil.example.com"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_api_tokens_act_as_their_account_with_its_scope(web_app: Any, web_store: WebStore) -> None:
    token = issue_token(web_store.engine, "builder", "station")
    client = fresh(web_app)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {"username": "station", "role": "station", "district": None, "station": "PS Demopur 1"}
    with web_store.engine.connect() as conn:
        assert token not in str(conn.execute(select(audit_events.c.details)).all())
    # a role that may not upload gets not-found, not forbidden
    upload = client.post(
        "/api/batches",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("b.zip", b"PK", "application/zip")},
    )
    assert upload.status_code == 404
    spec = client.get("/api/openapi.json").json()
    assert "/api/me" in spec["paths"] and "/api/batches" in spec["paths"]
    assert "/login" not in spec["paths"]


def test_a_batch_uploads_through_the_api_into_the_same_ingest(web_app: Any, web_store: WebStore) -> None:
    token = issue_token(web_store.engine, "builder", "analyst")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("100000042.xml", (FIXTURES / "100000042.xml").read_bytes())
        archive.writestr("broken.xml", "<report><unclosed></report>")
    response = fresh(web_app).post(
        "/api/batches",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("upload.zip", buffer.getvalue(), "application/zip")},
    )
    assert response.status_code == 201, response.text
    summary = response.json()
    assert summary["quarantined"] == 1 and summary["accepted"] + summary["updated"] + summary["duplicates"] == 1
    with web_store.engine.connect() as conn:
        actors = set(conn.execute(select(audit_events.c.actor).where(audit_events.c.action == "report.ingested")))
    assert ("analyst",) in actors


def test_an_upload_over_the_limit_is_refused(web_store: WebStore) -> None:
    from tipfusion.web.app import create_app

    app = create_app(web_store.settings, upload_limit=1024)
    token = issue_token(web_store.engine, "builder", "analyst")
    response = TestClient(app, base_url=BASE).post(
        "/api/batches", headers={"Authorization": f"Bearer {token}"}, files={"file": ("big.zip", b"x" * 4096)}
    )
    assert response.status_code == 413
    app.state.engine.dispose()


def test_a_wrong_role_gets_not_found(client_for: Any) -> None:
    auditor = client_for("auditor")
    response = auditor.post("/api/batches", headers={"X-CSRF-Token": auditor.csrf}, files={"file": ("b.zip", b"PK")})
    assert response.status_code == 404
    assert client_for("analyst").get("/api/me").json()["role"] == "analyst"  # a page's session works for /api too


def test_the_pages_of_this_module_are_valid_html_without_inline_code(web_app: Any, client_for: Any) -> None:
    anonymous = fresh(web_app)
    assert_valid_html(anonymous.get("/login").text)
    assert_valid_html(login(anonymous, "analyst", "wrong password 1").text)
    client = client_for("auditor")  # no pages of its own yet in this module: the start page
    assert_valid_html(client.get("/").text)
    assert_valid_html(client.get("/no-such-page").text)
