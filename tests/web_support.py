"""Fixtures for the web application's tests (registered as a pytest plugin by tests/conftest.py).

* `web_store` — a demo store per test module, on SQLite and on PostgreSQL: a synthetic batch through routing, four
  referrals (see `WebStore.referrals`), the SYNTHETIC flag, and one account per role named after the role
  (`admin`, `analyst`, `supervisor`, `district` (Demopur), `station` (PS Demopur 1), `auditor`, plus `station2`
  (PS Demopur 2)), each with the password `DEMO_PASSWORD`.
* `web_app` — the FastAPI application over it (one per module).
* `client_for(role)` — a TestClient logged in as that role's account; `.csrf` holds the session's form token.
* `browser_page` — a Playwright page (sync API) in Debian's Chromium (/usr/bin/chromium, never a downloaded build)
  against a uvicorn server on a free loopback port; `browser_page.base_url` and `browser_page.login(role)`;
  `shoot(page, name)` writes test-artifacts/screenshots/NAME.png. Mark browser tests `@pytest.mark.browser`.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tipfusion.accounts.principal import Role
from tipfusion.config import Settings
from tipfusion.store.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_PASSWORD = "synthetic-demo-password"  # the test accounts' password (SYNTHETIC store only)
OWN_STATION, OTHER_STATION, OTHER_DISTRICT_STATION = "PS Demopur 1", "PS Demopur 2", "PS Mockabad 2"
DISTRICT = "Demopur"
ACCOUNTS: dict[str, tuple[Role, str | None, str | None]] = {
    "admin": (Role.ADMIN, None, None),
    "analyst": (Role.ANALYST, None, None),
    "supervisor": (Role.SUPERVISOR, None, None),
    "district": (Role.DISTRICT, DISTRICT, None),
    "station": (Role.STATION, None, OWN_STATION),
    "station2": (Role.STATION, None, OTHER_STATION),
    "auditor": (Role.AUDITOR, None, None),
}


@pytest.fixture(autouse=True)
def _cli_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps `tipfusion login` sessions in its own folder, never the developer's ~/.local/state."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("TIPFUSION_STATE_DIR", str(folder))
    return folder


def cli_account(db_url: str, username: str, role: Role | str = Role.ADMIN, **scope: str) -> None:
    """Create an account in the store and log this test's command line in as it (`tipfusion login`): later
    commands on `db_url` act as `username`."""
    from tipfusion.accounts.service import create_user

    engine = make_engine(db_url)
    upgrade(engine)
    create_user(engine, "builder", username, DEMO_PASSWORD, role, **scope)  # type: ignore[arg-type]
    engine.dispose()
    cli_login(db_url, username)


def cli_login(db_url: str, username: str) -> None:
    """Log this test's command line in as an account the store holds (password `DEMO_PASSWORD`)."""
    from typer.testing import CliRunner

    from tipfusion.cli.main import app

    args = ["--database", db_url, "login", "--username", username, "--password-stdin"]
    result = CliRunner().invoke(app, args, input=DEMO_PASSWORD + "\n")
    assert result.exit_code == 0, result.output


@dataclass
class WebStore:
    """The module's store: its URL, settings, an engine, and what was built in it."""

    url: str
    settings: Settings
    engine: Engine
    workdir: Path
    referrals: dict[str, Any] = field(default_factory=dict)  # own | sibling | elsewhere | district_only → Referral
    password: str = DEMO_PASSWORD


def build_demo(engine: Engine, settings: Settings, workdir: Path) -> dict[str, Any]:
    """A synthetic batch through routing and four referrals (own station, its sibling, another district, a district
    with no station); the sibling's case has progressed (acknowledged, FIR, arrest, devices)."""
    from datetime import UTC, datetime

    from tipfusion.pipeline import through_routing
    from tipfusion.refer.service import build_referral, top_subjects
    from tipfusion.store import repository as repo
    from tipfusion.synth import generate
    from tipfusion.track.service import advance

    batch = generate(workdir / "batch", 120, seed=41)
    through_routing(engine, settings, "builder", batch)
    with engine.begin() as conn:
        repo.set_flag(conn, "synthetic", "true")
    first, second, third, fourth = top_subjects(engine, 4)
    out = workdir / "referrals"
    built = {
        "own": build_referral(engine, settings, "analyst", first, out, to=OWN_STATION),
        "sibling": build_referral(engine, settings, "analyst", second, out, to=OTHER_STATION),
        "elsewhere": build_referral(engine, settings, "analyst", third, out, to=OTHER_DISTRICT_STATION),
        "district_only": build_referral(engine, settings, "analyst", fourth, out, to=DISTRICT),
    }
    today = datetime.now(UTC).astimezone(settings.profile.zone).date()
    ref = built["sibling"].reference
    advance(engine, settings, "analyst", ref, "acknowledged", {})
    fir = {"fir_number": f"0007/{today.year}", "fir_date": today.isoformat(), "sections": "IT Act 67B"}
    advance(engine, settings, "analyst", ref, "fir_registered", fir)
    advance(engine, settings, "analyst", ref, "arrested", {"count": 1, "date": today.isoformat()})
    advance(engine, settings, "analyst", ref, "devices_seized", {"count": 3, "date": today.isoformat()})
    return built


def create_accounts(engine: Engine, password: str = DEMO_PASSWORD) -> None:
    from tipfusion.accounts.service import create_user

    for name, (role, district, station) in ACCOUNTS.items():
        create_user(engine, "builder", name, password, role, district=district, station=station, synthetic=True)


@dataclass
class _DemoBuild:
    """The demo store's files (batch, referral packages) as built, and what was built, for one kind of database."""

    workdir: Path  # where the store's rows say the files are: every module's copy restores them here
    pristine: Path  # the files as built
    referrals: dict[str, Any]


_DEMO_BUILDS: dict[str, _DemoBuild] = {}  # "sqlite" | "postgresql" → built once per session (per xdist worker)


def _demo_files(backend: str, store_templates: Any, url: str) -> _DemoBuild:
    """The module's copy of the demo store: its rows copied into `url` (see StoreTemplates) and its files restored
    where the rows say they are. Built once per session: it is ~7 s of CPU (a batch through routing, four referral
    PDFs), and every web module used to build its own. Modules run one after another in a process (pytest-xdist's
    `--dist loadfile` keeps a module on one worker), so one folder per kind of database is enough."""
    build = _DEMO_BUILDS.get(backend)
    if build is None:
        folder = store_templates.folder / f"web-{backend}"
        build = _DemoBuild(folder / "work", folder / "pristine", {})

        def make(engine: Engine, template_url: str) -> None:
            build.workdir.mkdir(parents=True)
            build.referrals.update(build_demo(engine, Settings(database_url=template_url), build.workdir))
            create_accounts(engine)

        store_templates.fill(url, "web-demo", make)
        shutil.copytree(build.workdir, build.pristine)
        _DEMO_BUILDS[backend] = build
    else:
        shutil.rmtree(build.workdir)
        shutil.copytree(build.pristine, build.workdir)
        store_templates.fill(url, "web-demo", lambda _engine, _url: None)
    return build


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_store(request: pytest.FixtureRequest, store_templates: Any) -> Iterator[WebStore]:
    """A prepared demo store for the module (see the module docstring), on SQLite and on PostgreSQL: the module's
    own copy of one built once per session, so what one module changes no other sees."""
    from tests.conftest import _PG_PROBLEM, POSTGRES_URL, REQUIRE_POSTGRES, _in_schema

    schema = None
    if request.param == "sqlite":
        database = store_templates.folder / f"web-sqlite-store-{uuid.uuid4().hex[:10]}.db"
        url = f"sqlite:///{database}"
    else:
        if _PG_PROBLEM is not None:
            if REQUIRE_POSTGRES:
                pytest.fail(f"PostgreSQL required (TIPFUSION_REQUIRE_POSTGRES=1) but unavailable: {_PG_PROBLEM}")
            pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
        schema = f"tf_web_{uuid.uuid4().hex[:10]}"
        with make_engine(POSTGRES_URL).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = _in_schema(schema)
    build = _demo_files(request.param, store_templates, url)
    engine = make_engine(url)
    yield WebStore(url, Settings(database_url=url), engine, build.workdir, build.referrals)
    engine.dispose()
    if schema is not None:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def web_app(web_store: WebStore) -> Any:
    from tipfusion.web.app import create_app

    app = create_app(web_store.settings)
    yield app
    app.state.engine.dispose()


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> Any:
    """Log `client` in through the login form (its CSRF token included); returns the final response."""
    form = client.get("/login")
    token = CSRF_INPUT.search(form.text)
    assert token, "the login page has no CSRF token"
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"}
    )


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html) or re.search(r'data-csrf="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@pytest.fixture
def client_for(web_app: Any) -> Iterator[Callable[[str], Any]]:
    """`client_for("analyst")` → a TestClient logged in as that account, with `.csrf` set to its form token."""
    from fastapi.testclient import TestClient

    opened: list[Any] = []

    def make(role: str) -> Any:
        client = TestClient(web_app, base_url="http://127.0.0.1")
        opened.append(client)
        response = login(client, role)
        assert response.status_code in (200, 303), f"login as {role} failed: {response.status_code}"
        client.csrf = csrf_of(client.get("/").text)
        return client

    yield make
    for client in opened:
        client.close()


def assert_valid_html(html: str) -> None:
    """The page parses as HTML5 with no error (html5lib in strict mode), with no inline script or style attribute
    (the Content-Security-Policy would block them)."""
    import html5lib

    html5lib.HTMLParser(strict=True).parse(html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> (blocked by the CSP)"
    assert not re.search(r"\sstyle=", html), 'style="" attribute (blocked by the CSP)'
    assert not re.search(r"\son[a-z]+=", html), "inline event handler (blocked by the CSP)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(web_app: Any) -> Iterator[str]:
    """The module's app served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(web_app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def _browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class BrowserPage:
    """A Playwright page with the server's address and a login helper (attributes pass through to the page)."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def open(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.open("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("form[action='/login'] button[type=submit]")


@pytest.fixture
def browser_page(_browser: Any, live_server: str) -> Iterator[BrowserPage]:
    """A fresh browser context (no cookies) and page against the live server."""
    context = _browser.new_context(base_url=live_server, service_workers="block")
    # a shared 2-core CI machine can take tens of seconds per page under load; a slow page is not a broken one
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(120_000)
    page = context.new_page()
    yield BrowserPage(page, live_server)
    context.close()


def shoot(page: Any, name: str) -> Path:
    """A full-page screenshot as a test artefact (test-artifacts/screenshots/NAME.png, gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    inner = page.page if isinstance(page, BrowserPage) else page
    inner.screenshot(path=str(target), full_page=True)
    return target


def chromium_missing() -> bool:
    return not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None
