"""Login throttling per client address (on top of the per-account lockout), the session policy as settings, and
bounded uploads without a Content-Length — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.web_support import WebStore, csrf_of, login
from tipfusion import clock
from tipfusion.accounts.service import Policy, issue_token
from tipfusion.config import load_settings
from tipfusion.errors import ConfigurationError
from tipfusion.store.tables import audit_events, login_throttle, source_documents, users
from tipfusion.tuning import load_tuning

BASE = "http://127.0.0.1"


def _app(web_store: WebStore, **options: Any) -> Any:
    from tipfusion.web.app import create_app

    return create_app(web_store.settings, **options)


def _client(app: Any, address: str) -> TestClient:
    return TestClient(app, base_url=BASE, client=(address, 50000))


def _actions(web_store: WebStore, object_id: str) -> list[tuple[str, dict[str, Any]]]:
    with web_store.engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.details)
            .where(audit_events.c.object_id == object_id)
            .order_by(audit_events.c.seq)
        ).all()
    return [(str(a), dict(d or {})) for a, d in rows]


@pytest.fixture
def throttled(web_store: WebStore) -> Iterator[Any]:
    """An app that blocks an address after 3 failures (accounts lock only after 100)."""
    app = _app(web_store, policy=Policy(max_failures=100, client_max_failures=3))
    yield app
    app.state.engine.dispose()


def test_many_failures_from_one_address_across_accounts_refuse_it_for_a_while(
    throttled: Any, web_store: WebStore
) -> None:
    spray = "198.51.100.23"  # an address of the synthetic ranges
    for name in ("analyst", "supervisor", "nobody-at-all"):  # one guess per account: no account locks
        assert login(_client(throttled, spray), name, "Summer2026!guess").status_code == 401
    # now even the right password is refused from that address, with a message that says why (and nothing of any
    # account), and the refusal is on the audit record with the address
    refused = login(_client(throttled, spray), "analyst")
    assert refused.status_code == 429 and "Too many failed logins from this address" in refused.text
    assert "tf_session" not in refused.cookies
    entries = _actions(web_store, spray)
    assert [a for a, _ in entries] == ["login.throttled"]
    assert entries[0][1]["failures"] == 3
    with web_store.engine.connect() as conn:
        refusals = conn.execute(
            select(audit_events.c.details).where(
                audit_events.c.action == "account.login_failed", audit_events.c.object_id == "analyst"
            )
        ).scalars()
        assert any(d.get("why") == "client throttled" and d.get("client") == spray for d in refusals)
        # no account was locked by the spray
        locked = conn.execute(select(func.count()).select_from(users).where(users.c.locked_until.is_not(None)))
        assert locked.scalar_one() == 0
    # another address is not affected
    assert login(_client(throttled, "198.51.100.24"), "analyst").status_code == 200
    # once the block has passed, the address logs in again
    with web_store.engine.begin() as conn:
        conn.execute(update(login_throttle).where(login_throttle.c.client == spray).values(blocked_until=clock.now()))
    assert login(_client(throttled, spray), "analyst").status_code == 200


def test_failures_spread_beyond_the_window_do_not_add_up(throttled: Any, web_store: WebStore) -> None:
    address = "198.51.100.31"
    for _ in range(2):
        login(_client(throttled, address), "supervisor", "wrong-password-1")
    with web_store.engine.begin() as conn:  # the first two were long ago
        conn.execute(
            update(login_throttle)
            .where(login_throttle.c.client == address)
            .values(window_start=clock.now() - Policy().client_window * 2)
        )
    login(_client(throttled, address), "supervisor", "wrong-password-1")
    assert login(_client(throttled, address), "supervisor").status_code == 200
    assert _actions(web_store, address) == []


def test_the_session_policy_is_a_settings_section(tmp_path: Path, web_store: WebStore) -> None:
    config = tmp_path / "tipfusion.toml"
    config.write_text("[sessions]\nidle_timeout_minutes = 5\nclient_max_failures = 7\n")
    env = {"TIPFUSION_CONFIG": str(config), "TIPFUSION_SESSIONS__MAX_FAILURES": "3"}
    tuning = load_tuning(str(config), env)
    policy = tuning.sessions.policy()
    assert (policy.idle_timeout.total_seconds(), policy.client_max_failures, policy.max_failures) == (300, 7, 3)
    assert policy.lockout == Policy().lockout and policy.max_age == Policy().max_age
    assert tuning.origins["sessions.max_failures"] == "TIPFUSION_SESSIONS__MAX_FAILURES"
    # the application takes its policy from the settings
    from dataclasses import replace

    from tipfusion.web.app import create_app

    app = create_app(replace(load_settings(env), database_url=web_store.url))
    assert app.state.policy == policy
    app.state.engine.dispose()
    # a value that cannot be used names its key and what is expected
    config.write_text("[sessions]\nlockout_minutes = 0\n")
    with pytest.raises(ConfigurationError, match=r"\[sessions\] lockout_minutes: expected a whole number of minutes"):
        load_tuning(str(config), {})
    # and `tipfusion config show sessions` lists them with where each came from
    from tipfusion.cli.main import app as cli

    config.write_text("[sessions]\nidle_timeout_minutes = 5\n")
    shown = CliRunner().invoke(cli, ["config", "show", "sessions"], env={"TIPFUSION_CONFIG": str(config)})
    assert shown.exit_code == 0, shown.output
    assert "idle_timeout_minutes" in shown.output and "client_block_minutes" in shown.output
    assert "[sessions] idle_timeout_minutes" in shown.output


def test_a_login_past_the_idle_timeout_of_the_settings_has_ended(web_store: WebStore) -> None:
    from datetime import timedelta

    from tipfusion.store.tables import user_sessions

    app = _app(web_store, policy=Policy(idle_timeout=timedelta(minutes=5)))
    client = _client(app, "198.51.100.40")
    assert login(client, "analyst").status_code == 200
    assert client.get("/today", follow_redirects=False).status_code == 200
    with web_store.engine.begin() as conn:
        conn.execute(update(user_sessions).values(last_seen=clock.now() - timedelta(minutes=6)))
    answer = client.get("/today", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    app.state.engine.dispose()


def _chunks(total: int, size: int = 512) -> Iterator[bytes]:
    """A body sent in chunks (Transfer-Encoding: chunked): no Content-Length to refuse it by."""
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def _stored(web_store: WebStore) -> int:
    with web_store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(source_documents)).scalar_one())


def test_a_chunked_upload_past_the_limit_is_refused_cleanly(web_store: WebStore) -> None:
    app = _app(web_store, upload_limit=4096)
    token = issue_token(web_store.engine, "builder", "analyst")
    before = _stored(web_store)
    client = _client(app, "198.51.100.50")
    boundary = "tipfusion-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()

    def body(size: int = 64 * 1024) -> Iterator[bytes]:
        yield head
        yield from _chunks(size)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/batches",
        headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["detail"]
    assert _stored(web_store) == before
    # a page upload (the ingest form, CSRF in the header) is refused the same way, with the error page
    assert login(client, "analyst").status_code == 200
    csrf = csrf_of(client.get("/ingest").text)
    page = client.post(
        "/ingest",
        headers={"X-CSRF-Token": csrf, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert page.status_code == 413 and "larger than" in page.text and "<html" in page.text.lower()
    assert _stored(web_store) == before
    # under the limit, a chunked body is read as usual (a bad zip is refused by the ingest, not by size)
    small = client.post(
        "/api/batches",
        headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(1024),
    )
    assert small.status_code != 413 and small.status_code < 500
    app.state.engine.dispose()
