"""ISP requests in the browser (SQLite and PostgreSQL): what is pending per ISP, build a notice for the sightings
ticked, download its parts (checked and audited), mark it sent with the reference it went under (checked, shown,
audited), upload the ISP's answer (matched rows shown; a bad file quarantined whole with the reason), overdue
requests flagged, the overview paged, notices to platforms built and sent from the web — and nobody outside the
central unit reaches any of it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, func, select

from tests.test_web_analyst import assert_page
from tests.web_support import WebStore
from tipfusion.store.tables import audit_events, isp_request_items, isp_requests, quarantine_entries

ITEM = re.compile(r'name="item" value="([^"]+)"[^>]*?( checked)?>')


@pytest.fixture(scope="module", autouse=True)
def requests_dir(web_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("web-requests")
    web_app.state.requests_dir = folder
    yield folder


def _audits(engine: Engine, actor: str, action: str, object_id: str | None = None) -> int:
    query = (
        select(func.count())
        .select_from(audit_events)
        .where(audit_events.c.actor == actor, audit_events.c.action == action)
    )
    if object_id is not None:
        query = query.where(audit_events.c.object_id == object_id)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _pending_isps(html: str) -> list[str]:
    return [quote_back(m) for m in re.findall(r'href="/requests/build\?isp=([^"]+)"', html)]


def quote_back(text: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(text.replace("&amp;", "&"))


def _build(analyst: Any, isp: str, take: int | None = None) -> tuple[int, list[str]]:
    """Open the build form for `isp`, tick the first `take` proposed items (all proposed by default), build."""
    form = assert_page(analyst.get(f"/requests/build?isp={quote(isp)}"))
    proposed = [key for key, checked in ITEM.findall(form) if checked]
    assert proposed, f"nothing proposed for {isp}"
    chosen = proposed[:take] if take else proposed
    answer = analyst.post(
        "/requests/build",
        data={"csrf_token": analyst.csrf, "isp": isp, "item": chosen},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    return int(answer.headers["location"].rsplit("/", 1)[1]), chosen


def _row(engine: Engine, request_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(isp_requests).where(isp_requests.c.id == request_id)).one()


def _ist(moment: datetime) -> str:
    """A time as a person types it into the form: the unit's local time, no zone."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%d %H:%M")


def _answer_csv(engine: Engine, request_id: int, *, shift: timedelta = timedelta(0)) -> bytes:
    """The ISP's answer to every item of a request (times in UTC with a zone); `shift` makes it answer what was not
    asked."""
    with engine.connect() as conn:
        items = conn.execute(select(isp_request_items).where(isp_request_items.c.request_id == request_id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["IP Address", "Source Port", "Date Time", "Subscriber Name", "Address", "PIN"])
    for item in items:
        moment = (item.observed_at + shift).astimezone(UTC).isoformat().replace("+00:00", "Z")
        port = "" if item.port is None else str(item.port)
        writer.writerow([item.ip, port, moment, "Subscriber (synthetic)", "House 9, Demopur", "903003"])
    return out.getvalue().encode()


def test_the_analyst_builds_downloads_sends_and_takes_an_answer(client_for: Any, web_store: WebStore) -> None:
    engine = web_store.engine
    analyst = client_for("analyst")
    html = assert_page(analyst.get("/requests"))
    assert _audits(engine, "analyst", "view.list", "isp_requests") >= 1
    isps = _pending_isps(html)
    assert isps, "the demo store has sightings to ask about"
    isp = isps[0]

    # build for two of the proposed sightings only: the request holds exactly those, the rest stay pending
    request_id, chosen = _build(analyst, isp, take=2)
    row = _row(engine, request_id)
    assert (row.recipient, row.items, row.status) == (isp, len(chosen), "draft")
    assert _audits(engine, "analyst", "request.built", row.reference) == 1
    page = assert_page(analyst.get(f"/requests/{request_id}"))
    assert row.reference in page and "built" in page
    again = assert_page(analyst.get(f"/requests/build?isp={quote(isp)}"))
    assert not set(chosen) & {key for key, _ in ITEM.findall(again)}, "asked sightings are not offered again"

    # every part downloads as written, its SHA-256 the one recorded; each download audited
    for name, digest in dict(row.files).items():
        part = analyst.get(f"/requests/{request_id}/parts/{quote(name)}")
        assert part.status_code == 200, name
        assert hashlib.sha256(part.content).hexdigest() == digest == part.headers["x-content-sha256"]
    assert _audits(engine, "analyst", "request.exported", row.reference) == len(row.files)
    folder = analyst.get(f"/requests/{request_id}/folder.zip")
    names = zipfile.ZipFile(io.BytesIO(folder.content)).namelist()
    assert {n.rsplit("/", 1)[-1] for n in names} >= set(row.files)
    before = _audits(engine, "analyst", "access.denied")
    assert analyst.get(f"/requests/{request_id}/parts/store.db").status_code == 404
    assert _audits(engine, "analyst", "access.denied") == before + 1

    # mark it sent an hour ago with the dispatch register's entry
    sent_at = datetime.now(UTC) - timedelta(hours=1)
    answer = analyst.post(
        f"/requests/{request_id}/sent",
        data={"csrf_token": analyst.csrf, "sent_at": _ist(sent_at), "reference": "DR/2026/118"},
    )
    assert "Marked sent" in assert_page(answer)
    row = _row(engine, request_id)
    assert (row.status, row.sent_reference) == ("sent", "DR/2026/118")
    assert abs(row.sent_at - sent_at) < timedelta(minutes=1)
    assert row.due_at - row.sent_at == timedelta(hours=72)
    assert _audits(engine, "analyst", "request.sent", row.reference) == 1

    # an answer naming a second the ISP was not asked about is quarantined whole, the reason shown
    wrong = _answer_csv(engine, request_id, shift=timedelta(seconds=1))
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(quarantine_entries)).scalar_one()
    refused = analyst.post(
        "/requests/answers",
        data={"csrf_token": analyst.csrf, "isp": isp},
        files={"answer": ("answer-wrong.csv", wrong, "text/csv")},
    )
    shown = assert_page(refused, 422)
    assert "quarantined" in shown and "unmatched rows" in shown and "was not asked" in shown
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine_entries)).scalar_one() == held + 1
        entry = conn.execute(select(func.max(quarantine_entries.c.id))).scalar_one()
    assert _row(engine, request_id).status == "sent"
    # the ingest's retry does not feed an ISP answer to the report ingest: it says where the answer goes instead
    retried = analyst.post("/ingest/quarantine/retry", data={"csrf_token": analyst.csrf, "entry": [entry]})
    assert "an ISP answer: import the corrected file" in assert_page(retried)
    with engine.connect() as conn:
        status = conn.execute(select(quarantine_entries.c.status).where(quarantine_entries.c.id == entry))
        assert status.scalar_one() == "open"

    # the right answer lands: every row matched to its item, the request answered
    right = _answer_csv(engine, request_id)
    landed = assert_page(
        analyst.post(
            "/requests/answers",
            data={"csrf_token": analyst.csrf, "isp": isp, "mapping": "Date Time=time"},
            files={"answer": ("answer.csv", right, "text/csv")},
        )
    )
    assert f"{len(chosen)} row(s) matched" in landed and row.reference in landed
    assert _row(engine, request_id).status == "answered"
    assert _audits(engine, "analyst", "request.answered", row.reference) == 1
    # the same file again adds nothing
    repeat = analyst.post(
        "/requests/answers",
        data={"csrf_token": analyst.csrf, "isp": isp, "mapping": "Date Time=time"},
        files={"answer": ("answer.csv", right, "text/csv")},
    )
    assert "already stored" in assert_page(repeat)
    # an answered request is not marked sent again
    resend = analyst.post(f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "sent_at": ""})
    assert assert_page(resend, 422) and _row(engine, request_id).status == "answered"


def test_overdue_requests_and_form_errors(client_for: Any, web_store: WebStore) -> None:
    engine = web_store.engine
    analyst = client_for("analyst")
    isps = _pending_isps(analyst.get("/requests").text)
    request_id, _ = _build(analyst, isps[-1], take=1)
    # a date that is not one, and a date in the future: refused beside the field, nothing recorded
    for bad in ("next tuesday", _ist(datetime.now(UTC) + timedelta(days=2))):
        answer = analyst.post(f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "sent_at": bad})
        assert "s-sent_at-error" in assert_page(answer, 422)
        assert _row(engine, request_id).status == "draft"
    analyst.post(
        f"/requests/{request_id}/sent",
        data={"csrf_token": analyst.csrf, "sent_at": _ist(datetime.now(UTC) - timedelta(days=4))},
    )
    overdue = assert_page(analyst.get("/requests?state=overdue"))
    assert _row(engine, request_id).reference in overdue
    # nothing ticked; an answer that is not CSV/XLSX; an ISP never asked
    refused = analyst.post("/requests/build", data={"csrf_token": analyst.csrf, "isp": isps[0]})
    assert "tick at least one" in assert_page(refused, 422)
    wrong_kind = analyst.post(
        "/requests/answers",
        data={"csrf_token": analyst.csrf, "isp": isps[-1]},
        files={"answer": ("answer.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert "expected the ISP" in assert_page(wrong_kind, 422)
    never = analyst.post(
        "/requests/answers",
        data={"csrf_token": analyst.csrf, "isp": "Nobody Telecom"},
        files={"answer": ("answer.csv", b"ip,time\n", "text/csv")},
    )
    assert "no request was made" in assert_page(never, 422)


def test_a_state_change_without_the_token_is_refused(client_for: Any, web_store: WebStore) -> None:
    analyst = client_for("analyst")
    isps = _pending_isps(analyst.get("/requests").text)
    with web_store.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()
    answer = analyst.post("/requests/build", data={"isp": isps[0], "item": ["x"]})
    assert answer.status_code == 403
    with web_store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_requests)).scalar_one() == before


@pytest.mark.parametrize("role", ["station", "district", "supervisor", "auditor"])
def test_only_the_central_unit_reaches_requests(client_for: Any, web_store: WebStore, role: str) -> None:
    client = client_for(role)
    with web_store.engine.connect() as conn:
        some = conn.execute(select(isp_requests.c.id).limit(1)).scalar()
    paths = ["/requests", "/requests/build?isp=x", "/requests/platforms"]
    if some is not None:
        paths += [f"/requests/{some}", f"/requests/{some}/folder.zip"]
    for path in paths:
        before = _audits(web_store.engine, role, "access.denied")
        assert client.get(path).status_code == 404, path
        assert _audits(web_store.engine, role, "access.denied") == before + 1, path
    assert 'href="/requests"' not in client.get("/").text
    refused = client.post("/requests/build", data={"csrf_token": client.csrf, "isp": "x", "item": ["y"]})
    assert refused.status_code == 404
    with web_store.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()
    denied = _audits(web_store.engine, role, "access.denied")
    notice = client.post("/requests/platforms/build", data={"csrf_token": client.csrf, "platform": "example.com"})
    assert notice.status_code == 404
    assert _audits(web_store.engine, role, "access.denied") == denied + 1
    with web_store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_requests)).scalar_one() == before


def test_output_folders_are_settings(web_store: WebStore, tmp_path: Path) -> None:
    from dataclasses import replace

    from typer.testing import CliRunner

    from tests.web_support import cli_account
    from tipfusion.cli.main import app as cli
    from tipfusion.config import load_settings
    from tipfusion.refer.service import top_subjects
    from tipfusion.web.app import create_app

    config = tmp_path / "tipfusion.toml"
    config.write_text(
        f'[referrals]\noutput_dir = "{tmp_path / "refs"}"\n[requests]\noutput_dir = "{tmp_path / "isp"}"\n'
    )
    settings = load_settings({"TIPFUSION_CONFIG": str(config)})
    assert (settings.referrals_dir, settings.requests_dir) == (str(tmp_path / "refs"), str(tmp_path / "isp"))
    overridden = load_settings({"TIPFUSION_CONFIG": str(config), "TIPFUSION_REQUESTS_DIR": str(tmp_path / "other")})
    assert overridden.requests_dir == str(tmp_path / "other")
    app = create_app(replace(settings, database_url=web_store.url))
    assert (app.state.referrals_dir, app.state.requests_dir) == (tmp_path / "refs", tmp_path / "isp")
    app.state.engine.dispose()
    # `tipfusion refer build` without --output writes where the setting says
    cli_account(web_store.url, "referrer", "analyst")
    (subject,) = top_subjects(web_store.engine, 1)
    folder = tmp_path / "from-env"
    result = CliRunner().invoke(
        cli, ["--database", web_store.url, "refer", "build", subject], env={"TIPFUSION_REFERRALS_DIR": str(folder)}
    )
    assert result.exit_code == 0, result.output
    assert [p for p in folder.iterdir() if p.is_dir()], "no package in the configured folder"


def test_pending_counts_agree_with_what_a_build_would_ask(web_store: WebStore) -> None:
    """The overview counts in SQL; the build form groups the sightings in Python (`group_requests`): the same."""
    from tipfusion.accounts.principal import Principal, Role
    from tipfusion.requests.isp import group_requests
    from tipfusion.requests.service import pending_sightings
    from tipfusion.workplace import isp_requests as service

    analyst = Principal("analyst", Role.ANALYST)
    overview = service.requests_overview(web_store.engine, analyst)
    grouped = {r.isp: r for r in group_requests(pending_sightings(web_store.engine), include_unidentifiable=True)}
    assert {p.isp for p in overview.pending} == set(grouped)
    for line in overview.pending:
        form = service.pending_for(web_store.engine, analyst, line.isp)
        assert line.pending == form.total == len(grouped[line.isp].items), line.isp
        assert line.proposed == sum(item.ticked for item in form.items), line.isp
        assert line.log_timezone == form.log_timezone


SERVICE_ACTIONS = (
    "overview",
    "pending",
    "build",
    "page",
    "part",
    "folder",
    "sent",
    "answer",
    "platforms",
    "build_platform",
)


@pytest.mark.parametrize("role", ["admin", "analyst", "supervisor", "district", "station", "auditor"])
def test_service_matrix(web_store: WebStore, role: str, tmp_path: Path) -> None:
    """Role × action over the service layer itself (not only the routes): the central unit passes, every other role
    gets the same not-found for every action, each refusal audited, nothing written."""
    from tipfusion.accounts.principal import Principal, Role
    from tipfusion.errors import NotFound
    from tipfusion.workplace import isp_requests as service
    from tipfusion.workplace import platform_notices as notices

    engine, settings = web_store.engine, web_store.settings
    scope = {"district": ("Demopur", None), "station": (None, "PS Demopur 1")}.get(role, (None, None))
    principal = Principal(role, Role(role), *scope)
    analyst = Principal("analyst", Role.ANALYST)
    overview = service.requests_overview(engine, analyst)
    if not overview.requests:  # this test alone: build one to open
        first = service.pending_for(engine, analyst, overview.pending[0].isp)
        service.build_for(engine, settings, analyst, tmp_path, first.isp, [first.items[0].key])
        overview = service.requests_overview(engine, analyst)
    isp = overview.pending[0].isp if overview.pending else "x"
    some = overview.requests[0].id
    name = next(iter(service.request_page(engine, analyst, some).files))
    calls = {
        "overview": lambda: service.requests_overview(engine, principal),
        "pending": lambda: service.pending_for(engine, principal, isp),
        "build": lambda: service.build_for(engine, settings, principal, tmp_path, isp, ["none-such"]),
        "page": lambda: service.request_page(engine, principal, some),
        "part": lambda: service.request_part(engine, principal, some, name),
        "folder": lambda: service.request_folder(engine, principal, some),
        "sent": lambda: service.record_sent(engine, settings, principal, 10**9, "", ""),
        "answer": lambda: service.import_answer(engine, settings, principal, "x", "a.csv", io.BytesIO(b"ip"), 10),
        "platforms": lambda: notices.platform_overview(engine, principal),
        "build_platform": lambda: notices.build_platform_notice(engine, settings, principal, tmp_path, "none-such"),
    }
    with engine.connect() as conn:
        written = conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()
    for action in SERVICE_ACTIONS:
        before = _audits(engine, role, "access.denied")
        if role in ("admin", "analyst"):
            if action in ("overview", "page", "part", "folder", "platforms") or (
                action == "pending" and overview.pending
            ):
                assert calls[action]() is not None, action
            continue
        with pytest.raises(NotFound):
            calls[action]()
        assert _audits(engine, role, "access.denied") == before + 1, action
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_requests)).scalar_one() == written


def test_the_reference_a_request_went_under_is_checked_shown_and_audited(client_for: Any, web_store: WebStore) -> None:
    """The mark-sent form's reference: a control character or an over-long value is refused beside the field (what
    was typed shown again, nothing recorded); a good one is recorded, shown on the request page and in the list,
    kept when the date is corrected, and carried by the audit entry of the sent event."""
    engine = web_store.engine
    analyst = client_for("analyst")
    isps = _pending_isps(analyst.get("/requests").text)
    request_id, _ = _build(analyst, isps[0], take=1)
    for bad, why in (("LTR/44\r\nBcc: x", "control"), ("L" * 201, "at most 200")):
        answer = analyst.post(
            f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "sent_at": "", "reference": bad}
        )
        shown = assert_page(answer, 422)
        assert 'id="s-reference-error"' in shown and why in shown
        assert _row(engine, request_id).status == "draft"
    good = "ISP/NODAL/2026/0042"
    sent = analyst.post(f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "reference": f" {good} "})
    shown = assert_page(sent)
    assert re.search(r'id="sent-reference">' + re.escape(good) + "<", shown)
    row = _row(engine, request_id)
    assert (row.status, row.sent_reference) == ("sent", good)
    with engine.connect() as conn:
        details = (
            conn.execute(
                select(audit_events.c.details)
                .where(audit_events.c.action == "request.sent", audit_events.c.object_id == row.reference)
                .order_by(audit_events.c.seq.desc())
            )
            .scalars()
            .first()
        )
    assert details is not None and details["reference"] == good
    assert good in assert_page(analyst.get("/requests?state=sent"))
    # the page offers the recorded reference again; correcting the date without one keeps it
    assert f'value="{good}"' in assert_page(analyst.get(f"/requests/{request_id}"))
    analyst.post(f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "sent_at": "", "reference": ""})
    assert _row(engine, request_id).sent_reference == good


def test_platform_notices_from_the_web(client_for: Any, web_store: WebStore) -> None:
    """The analyst lists the platforms with reported accounts, builds the notice to one (CSRF-checked, audited as a
    platform request), downloads its parts from the request page and marks it sent with the platform's reference."""
    from tipfusion.requests.service import platform_accounts

    engine = web_store.engine
    analyst = client_for("analyst")
    listed = platform_accounts(engine)
    assert listed, "the demo store has reported accounts with a platform's user ID"
    platform, accounts, _ = listed[0]
    html = assert_page(analyst.get("/requests/platforms"))
    assert platform in html and _audits(engine, "analyst", "view.list", "platform_notices") >= 1
    assert 'href="/requests/platforms"' in assert_page(analyst.get("/requests"))

    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(isp_requests)).scalar_one()
    assert analyst.post("/requests/platforms/build", data={"platform": platform}).status_code == 403
    unknown = analyst.post("/requests/platforms/build", data={"csrf_token": analyst.csrf, "platform": "nowhere.test"})
    assert "no reported account" in assert_page(unknown, 422)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(isp_requests)).scalar_one() == before

    built = analyst.post(
        "/requests/platforms/build",
        data={"csrf_token": analyst.csrf, "platform": platform},
        follow_redirects=False,
    )
    assert built.status_code == 303, built.text[:2000]
    request_id = int(built.headers["location"].rsplit("/", 1)[1])
    row = _row(engine, request_id)
    assert (row.recipient, row.items, row.status) == (f"platform: {platform}", accounts, "draft")
    with engine.connect() as conn:
        kinds = (
            conn.execute(
                select(audit_events.c.object_type).where(
                    audit_events.c.action == "request.built", audit_events.c.object_id == row.reference
                )
            )
            .scalars()
            .all()
        )
    assert kinds == ["platform_request"]
    page = assert_page(analyst.get(f"/requests/{request_id}"))
    assert row.reference in page and "(platform)" in page
    for name, digest in dict(row.files).items():
        part = analyst.get(f"/requests/{request_id}/parts/{quote(name)}")
        assert hashlib.sha256(part.content).hexdigest() == digest, name
    assert _audits(engine, "analyst", "request.exported", row.reference) == len(row.files)

    sent = analyst.post(
        f"/requests/{request_id}/sent", data={"csrf_token": analyst.csrf, "reference": "LE-PORTAL-88213"}
    )
    assert "Marked sent" in assert_page(sent)
    assert _row(engine, request_id).sent_reference == "LE-PORTAL-88213"
    again = assert_page(analyst.get("/requests/platforms"))
    assert row.reference in again and "Build a new notice" in again


def test_the_overview_is_paged_and_counts_every_state(client_for: Any, web_store: WebStore) -> None:
    """The overview reads one page of requests and of pending ISPs; the state counts and the pending numbers are
    those of the whole store."""
    from tipfusion.accounts.principal import Principal, Role
    from tipfusion.requests.service import list_requests, pending_counts
    from tipfusion.workplace import isp_requests as service

    engine = web_store.engine
    analyst_client = client_for("analyst")
    isps = _pending_isps(analyst_client.get("/requests").text)
    for isp in isps[:2]:
        _build(analyst_client, isp, take=1)
    analyst = Principal("analyst", Role.ANALYST)
    every = list_requests(engine)
    assert len(every) >= 2
    whole = service.requests_overview(engine, analyst, size=10**6)
    assert sorted(r.id for r in whole.requests) == sorted(r["id"] for r in every)
    expected = {s: sum(1 for r in whole.requests if r.state == s) for s in ("built", "sent", "overdue", "answered")}
    assert whole.states == expected
    assert [(p.isp, p.log_timezone, p.pending, p.proposed) for p in whole.pending] == pending_counts(engine)
    seen = []
    first = service.requests_overview(engine, analyst, size=1)
    assert first.pages >= len(every) and len(first.requests) == 1
    for number in range(1, first.pages + 1):
        paged = service.requests_overview(engine, analyst, page=number, size=1)
        seen += [r.id for r in paged.requests]
        assert len(paged.pending) <= 1
    assert seen == sorted((r["id"] for r in every), reverse=True)
    built = service.requests_overview(engine, analyst, state="built", size=10**6)
    assert len(built.requests) == whole.states["built"] and {r.state for r in built.requests} <= {"built"}


def test_the_overview_page_links_its_pages(client_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tipfusion.workplace import isp_requests as service

    analyst = client_for("analyst")
    isps = _pending_isps(analyst.get("/requests").text)
    _build(analyst, isps[0], take=1)  # with those of the tests before: more than one request
    monkeypatch.setattr(service, "PAGE_SIZE", 1)
    html = assert_page(analyst.get("/requests?page=2"))
    assert "page 2 of" in html and 'rel="prev"' in html
    assert len(re.findall(r'<tr class="state-', html)) <= 1 and len(_pending_isps(html)) <= 1


@pytest.mark.browser
def test_platform_notice_walk_in_the_browser(browser_page: Any) -> None:
    """In Chromium, without a script of ours: requests → notices to platforms → build one → its page → mark it
    sent with the platform's reference, which the page then shows."""
    from tests.web_support import shoot

    page = browser_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.login("analyst")
    page.open("/requests")
    shoot(page, "analyst-requests")
    page.click('a[href="/requests/platforms"]')
    page.wait_for_load_state()
    shoot(page, "analyst-platforms")
    with page.expect_navigation(timeout=300_000):  # the notice (PDF, DOCX, annex) is written meanwhile
        page.locator("#platforms button[type=submit]").first.click(no_wait_after=True)
    assert page.locator("h1").inner_text().startswith("Request TF/PLATFORM/")
    page.fill("#s-reference", "LE-PORTAL-4471")
    with page.expect_navigation():
        page.locator("form[action$='/sent'] button[type=submit]").click()
    assert page.locator("#sent-note").is_visible()
    assert page.locator("#sent-reference").inner_text() == "LE-PORTAL-4471"
    shoot(page, "analyst-platform-notice-sent")
    assert not problems, problems
