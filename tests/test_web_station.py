"""The station and district officer's pages over HTTP: the authorisation matrix (role × page/action → 200/404, the
refusals audited), valid HTML without inline script or style, the case forms' field errors, package parts opened in
the browser and audited, the case API with token auth under the same scopes — SQLite and PostgreSQL — and the
browser walks: inbox → package → acknowledge → FIR → arrests, and another station's referral by URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web_pages import audit_count, valid_page
from tests.web_support import WebStore, shoot
from tipfusion.store.tables import cases

ROLES = ("admin", "analyst", "supervisor", "district", "station", "station2", "auditor")
SEES_OWN = {"admin", "analyst", "supervisor", "district", "station"}  # the own station's referral and case
ACTS_ON_OWN = {"admin", "analyst", "district", "station"}
READS_LISTS = set(ROLES) - {"auditor"}


def _pdf(referral: Any) -> str:
    return next(n for n in referral.files if n.endswith(".pdf") and "certificate" not in n)


def _pages(store: WebStore) -> dict[str, tuple[str, set[str]]]:
    own = store.referrals["own"]
    return {
        "inbox": ("/inbox", READS_LISTS),
        "overdue": ("/overdue", READS_LISTS),
        "referral": (f"/inbox/referrals/{own.referral_id}", SEES_OWN),
        "case": (f"/cases/{own.case_id}", SEES_OWN),
        "part": (f"/inbox/referrals/{own.referral_id}/parts/{quote(_pdf(own))}", SEES_OWN),
        "api-case": (f"/api/cases/{own.case_id}", SEES_OWN),
    }


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(client_for: Any, web_store: WebStore, role: str) -> None:
    client = client_for(role)
    for name, (url, allowed) in _pages(web_store).items():
        response = client.get(url)
        assert response.status_code == (200 if role in allowed else 404), f"{role} {name} {url}"
        if response.status_code == 404:
            assert web_store.referrals["own"].reference not in response.text  # nothing about it leaks
    # an action: the chargesheet step on a case that is not there yet — refused by the rules (422) for those who
    # may act, not found (404) for everyone else, and nothing changes either way
    own = web_store.referrals["own"]
    with web_store.engine.connect() as conn:
        before = conn.execute(select(cases.c.state).where(cases.c.id == own.case_id)).scalar_one()
    response = client.post(f"/cases/{own.case_id}/chargesheet", data={"csrf_token": client.csrf, "on": ""})
    assert response.status_code == (422 if role in ACTS_ON_OWN else 404), role
    with web_store.engine.connect() as conn:
        assert conn.execute(select(cases.c.state).where(cases.c.id == own.case_id)).scalar_one() == before
    if role not in SEES_OWN:
        assert audit_count(web_store.engine, "access.denied", role, str(own.case_id)) >= 2


def test_pages_are_valid_html_and_scoped(client_for: Any, web_store: WebStore) -> None:
    station = client_for("station")
    own, sibling = web_store.referrals["own"], web_store.referrals["sibling"]
    inbox = valid_page(station.get("/inbox"))
    assert own.reference in inbox and sibling.reference not in inbox
    assert "Acknowledge by" in inbox and "IST" in inbox
    referral = valid_page(station.get(f"/inbox/referrals/{own.referral_id}"))
    assert _pdf(own) in referral and own.files[_pdf(own)] in referral  # each part with its SHA-256
    case = valid_page(station.get(f"/cases/{own.case_id}"))
    assert f'action="/cases/{own.case_id}/acknowledge"' in case
    assert f'action="/cases/{own.case_id}/fir"' not in case  # only the steps the state allows
    valid_page(station.get("/overdue"))
    district = valid_page(client_for("district").get("/inbox"))
    assert own.reference in district and sibling.reference in district
    assert web_store.referrals["elsewhere"].reference not in district
    supervisor_case = valid_page(client_for("supervisor").get(f"/cases/{own.case_id}"))
    assert "/acknowledge" not in supervisor_case  # supervisors read, they do not act
    assert audit_count(web_store.engine, "view.list", "station", "inbox") >= 1
    assert audit_count(web_store.engine, "view.case", "station", str(own.case_id)) >= 1


def test_case_forms_put_each_error_beside_its_field(client_for: Any, web_store: WebStore) -> None:
    district = client_for("district")
    case_id = web_store.referrals["district_only"].case_id
    today = datetime.now(UTC).astimezone(web_store.settings.profile.zone).date()
    early = district.post(f"/cases/{case_id}/fir", data={"csrf_token": district.csrf, "fir_number": "1/2026"})
    page = valid_page(early, 422)
    assert 'id="case-error"' in page and "cannot become fir_registered" in page

    done = district.post(f"/cases/{case_id}/acknowledge", data={"csrf_token": district.csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/cases/{case_id}?done=")
    wrong = district.post(
        f"/cases/{case_id}/fir",
        data={"csrf_token": district.csrf, "fir_number": "12-ABC", "fir_date": today.isoformat(), "sections": ""},
    )
    page = valid_page(wrong, 422)
    assert 'id="fir-sections-error"' in page and "required" in page
    assert 'value="12-ABC"' in page  # what was typed stays in the form
    wrong = district.post(
        f"/cases/{case_id}/fir",
        data={"csrf_token": district.csrf, "fir_number": "12-ABC", "fir_date": today.isoformat(), "sections": "67B"},
    )
    page = valid_page(wrong, 422)
    assert 'id="fir-fir_number-error"' in page and 'aria-describedby="fir-fir_number-error"' in page
    correction = district.post(
        f"/cases/{case_id}/correct",
        data={"csrf_token": district.csrf, "field_name": "fir_number", "value": "1/2026", "reason": ""},
    )
    page = valid_page(correction, 422)
    assert 'id="correct-reason-error"' in page or 'id="correct-value-error"' in page
    transfer = district.post(
        f"/cases/{case_id}/transfer-request",
        data={"csrf_token": district.csrf, "to_station": "PS Nowhere 9", "reason": "moved"},
    )
    page = valid_page(transfer, 422)
    assert 'id="transfer-to_station-error"' in page
    no_token = district.post(f"/cases/{case_id}/acknowledge", data={})
    assert no_token.status_code == 403  # CSRF


def test_package_parts_open_in_the_browser_and_are_audited(client_for: Any, web_store: WebStore) -> None:
    station = client_for("station")
    own = web_store.referrals["own"]
    before = audit_count(web_store.engine, "referral.part_opened", "station", own.reference)
    pdf = station.get(f"/inbox/referrals/{own.referral_id}/parts/{quote(_pdf(own))}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline") and pdf.content.startswith(b"%PDF")
    annex = next(n for n in own.files if n.endswith(".xlsx"))
    sheet = station.get(f"/inbox/referrals/{own.referral_id}/parts/{quote(annex)}")
    assert sheet.status_code == 200 and sheet.headers["content-disposition"].startswith("attachment")
    assert audit_count(web_store.engine, "referral.part_opened", "station", own.reference) == before + 2
    assert station.get(f"/inbox/referrals/{own.referral_id}/parts/..%2F..%2Fstore.db").status_code == 404


def test_case_api_with_a_token_keeps_the_scopes(web_app: Any, web_store: WebStore) -> None:
    from tipfusion.accounts.service import issue_token

    own, sibling = web_store.referrals["own"], web_store.referrals["sibling"]
    api = TestClient(web_app, base_url="http://127.0.0.1")
    api.headers["Authorization"] = "Bearer " + issue_token(web_store.engine, "admin", "station2", "test")
    listed = api.get("/api/cases").json()
    assert [c["reference"] for c in listed["cases"]] == [sibling.reference]
    assert api.get(f"/api/cases/{own.case_id}").status_code == 404
    assert api.post(f"/api/cases/{own.case_id}/steps", json={"step": "acknowledged"}).status_code == 404
    shown = api.get(f"/api/cases/{sibling.case_id}").json()
    assert shown["case"]["id"] == sibling.case_id and shown["events"]
    refused = api.post(f"/api/cases/{sibling.case_id}/steps", json={"step": "arrested", "fields": {"count": "two"}})
    assert refused.status_code == 422 and set(refused.json()["errors"]) >= {"on"}
    today = datetime.now(UTC).astimezone(web_store.settings.profile.zone).date().isoformat()
    seized = api.post(
        f"/api/cases/{sibling.case_id}/steps", json={"step": "devices_seized", "fields": {"count": 2, "on": today}}
    )
    assert seized.status_code == 200, seized.text
    assert seized.json()["changes"]["devices_seized"] == 5  # 3 before, 2 more
    assert TestClient(web_app, base_url="http://127.0.0.1").get("/api/cases").status_code == 401


@pytest.mark.browser
def test_browser_station_officer_walks_inbox_package_acknowledge_fir_arrests(
    browser_page: Any, web_store: WebStore
) -> None:
    own = web_store.referrals["own"]
    page = browser_page
    page.login("station")
    page.open("/inbox")
    shoot(page, "station-inbox")
    page.click(f"text={own.reference}")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Referral {own.reference}"
    shoot(page, "station-referral")
    link = page.locator("table.parts a", has_text="open").first
    opened = page.request.get(page.base_url + str(link.get_attribute("href")))
    assert opened.status == 200 and opened.headers["content-type"] == "application/pdf"
    page.click(f"a[href='/cases/{own.case_id}']")
    page.wait_for_load_state()
    with web_store.engine.connect() as conn:
        state = conn.execute(select(cases.c.state).where(cases.c.id == own.case_id)).scalar_one()
    if state == "sent":
        page.click("#form-acknowledge button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#done").is_visible()
        shoot(page, "station-acknowledged")
    year = datetime.now(UTC).astimezone(web_store.settings.profile.zone).year
    page.fill("#fir-fir_number", "bad number")
    page.fill("#fir-sections", "IT Act 67B; POCSO 15")
    page.click("#form-fir button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#fir-fir_number-error").is_visible()
    shoot(page, "station-fir-error")
    page.fill("#fir-fir_number", f"0456/{year}")
    page.click("#form-fir button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#done").is_visible()
    page.fill("#arrests-count", "1")
    page.fill("#arrests-names", "Synthetic Person")
    page.click("#form-arrests button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#done").is_visible()
    shoot(page, "station-arrests")
    with web_store.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == own.case_id)).one()
    assert (row.state, row.fir_number, row.arrests) == ("arrested", f"0456/{year}", 1)
    assert row.arrested[-1]["name"] == "Synthetic Person"
    assert audit_count(web_store.engine, "case.transition", "station") >= 3


@pytest.mark.browser
def test_browser_another_stations_referral_by_url_is_not_found_and_audited(
    browser_page: Any, web_store: WebStore
) -> None:
    sibling = web_store.referrals["sibling"]
    before = audit_count(web_store.engine, "access.denied", "station", str(sibling.referral_id))
    page = browser_page
    page.login("station")
    response = page.open(f"/inbox/referrals/{sibling.referral_id}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert sibling.reference not in page.content()
    shoot(page, "station-other-referral-not-found")
    assert audit_count(web_store.engine, "access.denied", "station", str(sibling.referral_id)) == before + 1
