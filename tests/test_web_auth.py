"""The web application's accounts and security: login, lockout, idle timeout, logout, CSRF, cookie flags, security
headers, redirects, the API's token auth and role checks — on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web_support import login


def test_login_sets_a_strict_httponly_session_and_logout_ends_it(web_app: Any) -> None:
    client = TestClient(web_app, base_url="http://127.0.0.1")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    form = client.get("/login")
    assert "SYNTHETIC" in form.text
    response = login(client, "analyst")
    assert response.status_code == 200
    cookies = [h for h in response.history[0].headers.get_list("set-cookie") if h.startswith("tf_session=")]
    assert cookies and "HttpOnly" in cookies[0] and "SameSite=strict" in cookies[0]
    page = client.get("/")
    assert "analyst" in page.text and 'id="synthetic-banner"' in page.text
    from tests.web_support import csrf_of

    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused(web_app: Any) -> None:
    client = TestClient(web_app, base_url="http://127.0.0.1")
    response = login(client, "analyst", "not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
