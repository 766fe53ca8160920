"""The analyst's pages over HTTP (SQLite and PostgreSQL) and in a browser: today, the work queue, search by any
identifier, report, suspect and network pages, overrides, referrals; each page valid HTML5 with no inline script or
style, audited, and not found for a station officer whose scope it is not.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import html5lib
import pytest
from sqlalchemy import Engine, func, select

from tests.web_support import WebStore, shoot
from tipfusion.store.tables import audit_events, identifier_observations, referrals, report_links

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
MEDIA = re.compile(r"<(img|video|picture|source|iframe|object|embed)\b", re.IGNORECASE)


def assert_page(response: Any, status: int = 200) -> str:
    """The response's status, its HTML valid (html5lib strict), no inline script or style, no media element."""
    assert response.status_code == status, response.text[:2000]
    html: str = response.text
    html5lib.HTMLParser(strict=True).parse(html)
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)
    assert not MEDIA.search(html), MEDIA.search(html)
    assert "SYNTHETIC" in html
    return html


class Names:
    """Objects of the module's store the pages are opened on."""

    def __init__(self, engine: Engine) -> None:
        o = identifier_observations
        with engine.connect() as conn:
            referred = {
                str(s) for members in conn.execute(select(referrals.c.suspects)).scalars() for s in members or []
            }
            members: dict[str, set[str]] = {}
            for suspect, network in conn.execute(
                select(report_links.c.suspect_id, report_links.c.network_id).where(
                    report_links.c.network_id.is_not(None)
                )
            ):
                members.setdefault(str(network), set()).add(str(suspect))
            # the largest network no referral touches (out of every station's scope) with an Indian phone in it
            free = sorted((n for n, m in members.items() if not m & referred), key=lambda n: (-len(members[n]), n))
            phone = None
            network = ""
            for network in free:
                phone = conn.execute(
                    select(o.c.canonical, o.c.report_id)
                    .join(report_links, report_links.c.report_id == o.c.report_id)
                    .where(
                        o.c.kind == "phone",
                        o.c.is_current.is_(True),
                        o.c.canonical.like("+91%"),
                        report_links.c.network_id == network,
                    )
                    .order_by(o.c.report_id)
                    .limit(1)
                ).first()
                if phone is not None:
                    break
            assert phone is not None, "the demo store has no unreferred network with an Indian phone"
            self.network = network
            self.phone, self.report = str(phone.canonical), int(phone.report_id)
            self.suspect = str(
                conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id == self.report)).scalar()
            )
        digits = self.phone.removeprefix("+91")
        self.phone_typed = f"+91 {digits[:5]}-{digits[5:]}"  # "+91 98765-43210" for the stored "+919876543210"


@pytest.fixture(scope="module")
def names(web_store: WebStore) -> Names:
    return Names(web_store.engine)


@pytest.fixture(scope="module", autouse=True)
def referrals_dir(web_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Packages built through the pages go to a folder of the test's own."""
    folder = tmp_path_factory.mktemp("web-referrals")
    web_app.state.referrals_dir = folder
    yield folder


def _count(engine: Engine, actor: str, action: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(audit_events)
                .where(audit_events.c.actor == actor, audit_events.c.action == action)
            ).scalar_one()
        )


def _paths(names: Names, web_store: WebStore) -> list[str]:
    own = web_store.referrals["own"]
    return [
        "/today",
        "/queue",
        "/queue?level=report&band=high&sort=lowest&page=1",
        "/queue?level=network&placement=central",
        "/queue?level=suspect&referral_state=open&district=Demopur",
        "/search",
        f"/search?q={quote(names.phone_typed)}",
        f"/search?q={names.report}",
        f"/reports/{names.report}",
        f"/suspects/{names.suspect}",
        f"/networks/{names.network}",
        f"/refer/{own.referral_id}",
        f"/refer/{own.reference}",
    ]


def test_every_page_for_the_analyst(client_for: Any, names: Names, web_store: WebStore) -> None:
    analyst = client_for("analyst")
    for path in _paths(names, web_store):
        before = _count(web_store.engine, "analyst", "access.denied")
        assert_page(analyst.get(path))
        assert _count(web_store.engine, "analyst", "access.denied") == before, path


def test_pages_are_audited_as_views(client_for: Any, names: Names, web_store: WebStore) -> None:
    analyst = client_for("analyst")
    checks = {
        "/today": "view.list",
        f"/search?q={quote(names.phone_typed)}": "view.search",
        f"/reports/{names.report}": "view.report",
        f"/suspects/{names.suspect}": "view.suspect",
        f"/networks/{names.network}": "view.network",
    }
    for path, action in checks.items():
        before = _count(web_store.engine, "analyst", action)
        analyst.get(path)
        assert _count(web_store.engine, "analyst", action) > before, path


def test_station_officer_gets_not_found_and_an_audit_entry(client_for: Any, names: Names, web_store: WebStore) -> None:
    station = client_for("station")
    for path in [*_paths(names, web_store)[:11], f"/refer/{web_store.referrals['elsewhere'].referral_id}"]:
        before = _count(web_store.engine, "station", "access.denied")
        assert_page(station.get(path), 404)
        assert _count(web_store.engine, "station", "access.denied") == before + 1, path
    assert station.get(f"/api/search?q={quote(names.phone)}").status_code == 404
    assert station.get(f"/api/networks/{names.network}/graph").status_code == 404


def test_station_officer_opens_what_was_referred_to_it(client_for: Any, web_store: WebStore) -> None:
    station = client_for("station")
    own = web_store.referrals["own"]
    assert_page(station.get(f"/refer/{own.referral_id}"))
    assert_page(station.get(f"/suspects/{own.subject_id}"))


def test_search_reads_a_phone_written_another_way(client_for: Any, names: Names) -> None:
    html = assert_page(client_for("analyst").get("/search", params={"q": names.phone_typed}))
    assert f'href="/reports/{names.report}"' in html
    assert f'href="/suspects/{names.suspect}"' in html
    assert names.phone in html  # compared as the stored E.164


def test_search_blank_kind_is_an_error_beside_its_field(client_for: Any) -> None:
    html = assert_page(client_for("analyst").get("/search", params={"q": "x", "kind": "shoe"}), 422)
    assert 'id="s-kind-error"' in html


def test_search_api(client_for: Any, names: Names) -> None:
    analyst = client_for("analyst")
    found = analyst.get("/api/search", params={"q": names.phone_typed})
    assert found.status_code == 200
    body = found.json()
    assert names.report in {r["report_id"] for r in body["reports"]}
    assert any(r["kind"] == "phone" and r["canonical"] == names.phone for r in body["readings"])
    blank = analyst.get("/api/search", params={"q": " "})
    assert blank.status_code == 422 and "q" in blank.json()["detail"]


def test_search_api_needs_authentication(web_app: Any, names: Names) -> None:
    from fastapi.testclient import TestClient

    with TestClient(web_app, base_url="http://127.0.0.1") as anonymous:
        assert anonymous.get("/api/search", params={"q": names.phone}).status_code == 401
        assert anonymous.get(f"/api/networks/{names.network}/graph").status_code == 401
        assert anonymous.get("/search", follow_redirects=False).status_code == 303  # to the login page


def test_report_page_timeline_and_files_as_metadata(client_for: Any, names: Names) -> None:
    html = assert_page(client_for("analyst").get(f"/reports/{names.report}"))
    assert "IP timeline" in html and " IST (" in html and "UTC)" in html
    assert "metadata and hashes only" in html
    assert "Provenance" in html and "Versions" in html


def test_network_graph_json_explains_every_edge(client_for: Any, names: Names) -> None:
    graph = client_for("analyst").get(f"/api/networks/{names.network}/graph")
    assert graph.status_code == 200
    elements = graph.json()["elements"]
    ids = {n["data"]["id"] for n in elements["nodes"]}
    assert elements["edges"]
    for edge in elements["edges"]:
        assert edge["data"]["source"] in ids and edge["data"]["target"] in ids and edge["data"]["explains"]


def test_network_page_lists_the_graph_without_javascript(client_for: Any, names: Names) -> None:
    html = assert_page(client_for("analyst").get(f"/networks/{names.network}"))
    assert 'data-graph-url="/api/networks/' in html
    assert "/static/vendor/cytoscape/cytoscape.min.js" in html
    assert "linked (score" in html and "Suppressed values" in html


def test_override_forms(client_for: Any, names: Names, web_store: WebStore) -> None:
    analyst = client_for("analyst")
    target = f"/networks/{names.network}/overrides"
    refused = analyst.post(target, data={"action": "split", "report_a": str(names.report), "reason": "why"})
    assert refused.status_code == 403  # no CSRF token
    blank = analyst.post(
        target, data={"csrf_token": analyst.csrf, "action": "merge", "report_a": "12x", "report_b": "", "reason": " "}
    )
    html = assert_page(blank, 422)
    for field in ("report_a", "report_b", "reason"):
        assert f'id="o-merge-{field}-error"' in html
    before = _count(web_store.engine, "analyst", "link.override.noise")
    done = analyst.post(
        target,
        data={
            "csrf_token": analyst.csrf,
            "action": "noise",
            "kind": "phone",
            "value": names.phone_typed,
            "reason": "a shared help-line",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=" in done.headers["location"]
    assert _count(web_store.engine, "analyst", "link.override.noise") == before + 1
    supervisor = client_for("supervisor")
    assert_page(
        supervisor.post(
            target, data={"csrf_token": supervisor.csrf, "action": "split", "report_a": "1", "reason": "x"}
        ),
        404,
    )


def test_build_referral_download_and_verify(client_for: Any, names: Names, web_store: WebStore) -> None:
    analyst = client_for("analyst")
    refused = analyst.post(
        "/refer", data={"csrf_token": analyst.csrf, "target": names.suspect, "to": "PS Nowhere 9", "back": "/x"}
    )
    assert 'id="r-to-error"' in assert_page(refused, 422)
    built = analyst.post(
        "/refer", data={"csrf_token": analyst.csrf, "target": names.suspect, "to": ""}, follow_redirects=False
    )
    assert built.status_code == 303
    where = built.headers["location"]
    html = assert_page(analyst.get(where))
    assert "Download the package" in html
    package = analyst.get(f"{where}/package.zip")
    assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        parts = archive.namelist()
    assert any(p.endswith("manifest-sha256.txt") for p in parts)
    assert any(p.endswith(".pdf") for p in parts)
    checked = assert_page(analyst.post(f"{where}/verify", data={"csrf_token": analyst.csrf}))
    assert "intact" in checked
    before = _count(web_store.engine, "station2", "access.denied")
    assert client_for("station2").get(f"{where}/package.zip").status_code == 404
    assert _count(web_store.engine, "station2", "access.denied") == before + 1


def test_search_api_with_a_token(web_app: Any, web_store: WebStore, names: Names) -> None:
    from fastapi.testclient import TestClient

    from tipfusion.accounts.service import issue_token

    analyst_token = issue_token(web_store.engine, "admin", "analyst", "integration test")
    station_token = issue_token(web_store.engine, "admin", "station", "integration test")
    with TestClient(web_app, base_url="http://127.0.0.1") as machine:
        found = machine.get(
            "/api/search", params={"q": names.phone_typed}, headers={"Authorization": f"Bearer {analyst_token}"}
        )
        assert found.status_code == 200 and names.report in {r["report_id"] for r in found.json()["reports"]}
        refused = machine.get(
            "/api/search", params={"q": names.phone}, headers={"Authorization": f"Bearer {station_token}"}
        )
        assert refused.status_code == 404
    assert "/api/search" in web_app.openapi()["paths"]


def test_ingest_upload_and_quarantine(client_for: Any) -> None:
    analyst = client_for("analyst")
    assert_page(analyst.get("/ingest"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("reports/cut-short.xml", b"<?xml version='1.0'?><report><incidentSummary>")
    files = {"batch": ("upload-test.zip", buffer.getvalue(), "application/zip")}
    landed = assert_page(analyst.post("/ingest", data={"csrf_token": analyst.csrf}, files=files))
    assert "upload-test.zip: ingested" in landed and "cut-short.xml" in landed
    entry = re.search(r'name="entry" value="(\d+)"', landed)
    assert entry
    retried = assert_page(
        analyst.post("/ingest/quarantine/retry", data={"csrf_token": analyst.csrf, "entry": entry[1]})
    )
    assert "still rejected" in retried
    wrong = {"batch": ("notes.txt", b"hello", "text/plain")}
    assert 'id="i-batch-error"' in assert_page(
        analyst.post("/ingest", data={"csrf_token": analyst.csrf}, files=wrong), 422
    )
    station = client_for("station")
    assert_page(station.get("/ingest"), 404)
    assert_page(station.post("/ingest", data={"csrf_token": station.csrf}, files=files), 404)


@pytest.mark.browser
def test_analyst_walk_in_the_browser(browser_page: Any, names: Names) -> None:
    """Log in → search a phone written another way → report → suspect → network graph → build referral → download."""
    page = browser_page
    problems: list[str] = []  # a refused script or style (CSP) or a failed request shows up here
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.text} at {message.location} on {page.url}")
            if message.type == "error" and not message.text.startswith(failed)
            else None
        ),
    )
    failed = "Failed to load resource"  # a missing favicon is the browser's own request: reported as a response below
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.login("analyst")
    page.open("/today")
    shoot(page, "analyst-today")
    page.open("/queue")
    shoot(page, "analyst-queue")
    page.open("/search")
    page.fill("#s-q", names.phone_typed)
    page.click("form.search-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(f'a[href="/reports/{names.report}"]').count() > 0
    shoot(page, "analyst-search")
    page.locator(f'a[href="/reports/{names.report}"]').first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("CyberTipline report")
    shoot(page, "analyst-report")
    page.open(f"/suspects/{names.suspect}")
    shoot(page, "analyst-suspect")
    page.locator('a[href^="/networks/"]').first.click()
    page.wait_for_selector("#network-graph[data-ready=true] canvas", timeout=20_000)
    assert page.locator("#network-graph canvas").count() > 0
    shoot(page, "analyst-network")
    page.fill("#r-to", "PS Demopur 1")
    with page.expect_navigation(timeout=300_000):  # the package (PDF, DOCX, annex, certificate) is built meanwhile
        page.locator("section[aria-labelledby=refer-h] button[type=submit]").click(no_wait_after=True)
    assert page.locator("h1").inner_text().startswith("Referral ")
    shoot(page, "analyst-referral")
    with page.expect_download(timeout=120_000) as info:
        page.click("#download-package")
    download = info.value
    target = Path(download.path())
    with zipfile.ZipFile(target) as archive:
        assert any(p.endswith("manifest-sha256.txt") for p in archive.namelist())
    assert not problems, problems


def test_queue_page_total_is_the_count_or_says_more_than(
    client_for: Any, web_store: WebStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole level's total (kept by triage) is the number of its priorities, with "page 1 of M"; a filtered
    view past the count's cap says "More than N" and offers the next page without claiming a last one."""
    from tipfusion.accounts.principal import Principal, Role
    from tipfusion.store.tables import priorities
    from tipfusion.workplace import queue as queue_module

    analyst = client_for("analyst")
    with web_store.engine.connect() as conn:
        held = conn.execute(
            select(func.count()).select_from(priorities).where(priorities.c.object_type == "report")
        ).scalar_one()
    html = assert_page(analyst.get("/queue?level=report"))
    pages = -(-held // 50)
    assert f"{held} in the queue with these filters; page 1 of {pages}." in html
    assert ('rel="next"' in html) == (pages > 1)
    filtered = "/queue?level=report&referral_state=unreferred"
    every = queue_module.work_queue(
        web_store.engine, Principal("ana", Role.ANALYST), level="report", referral_state="unreferred", limit=10**6
    )
    unreferred = len(every.rows)
    assert unreferred > 50  # more than a page: the capped count below stops within it
    exact = analyst.get(filtered).text
    assert f"{unreferred} in the queue with these filters; page 1 of {-(-unreferred // 50)}." in exact
    monkeypatch.setattr(queue_module, "COUNT_CAP", 1)  # a page still counts as far as it reaches: 50 rows
    capped = assert_page(analyst.get(filtered))
    assert "More than 50 in the queue with these filters; page 1." in capped and 'rel="next"' in capped
    assert " of 2." not in capped
