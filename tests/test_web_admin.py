"""The admin and audit pages over HTTP: only admins reach users, jurisdiction, ISP table and statements, only auditors
and admins the audit log (everyone else: not found, audited); accounts created and disabled with field errors
beside their fields; the station layer uploaded whole or refused; the audit viewer's filters, paging and chain
verification — valid HTML without inline script or style, SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web_pages import audit_count, valid_page
from tests.web_support import DEMO_PASSWORD, WebStore, login, shoot
from tipfusion.route.jurisdictions import demo_jurisdiction

ROLES = ("admin", "analyst", "supervisor", "district", "station", "auditor")
ADMIN_PAGES = ("/admin/users", "/admin/jurisdiction", "/admin/isp-table", "/admin/statements")


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client_for: Any, web_store: WebStore, role: str) -> None:
    client = client_for(role)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == (200 if role == "admin" else 404), f"{role} {url}"
    assert client.get("/audit").status_code == (200 if role in ("admin", "auditor") else 404)
    made = client.post(
        "/admin/users",
        data={"csrf_token": client.csrf, "username": f"made-by-{role}", "password": "x" * 16, "role": "analyst"},
        follow_redirects=False,
    )
    assert made.status_code == (303 if role == "admin" else 404)
    verified = client.post("/audit/verify", data={"csrf_token": client.csrf})
    assert verified.status_code == (200 if role in ("admin", "auditor") else 404)
    if role not in ("admin", "auditor"):
        assert audit_count(web_store.engine, "access.denied", role) >= len(ADMIN_PAGES) + 3


def test_pages_are_valid_html(client_for: Any) -> None:
    admin = client_for("admin")
    for url in (*ADMIN_PAGES, "/audit"):
        valid_page(admin.get(url))
    statements = valid_page(admin.get("/admin/statements"))
    assert "built-in" in statements and 'id="statements"' in statements


def test_accounts_are_created_with_errors_beside_fields_and_disabled(web_app: Any, client_for: Any) -> None:
    admin = client_for("admin")
    bad = admin.post(
        "/admin/users",
        data={"csrf_token": admin.csrf, "username": "Bad Name!", "password": "x" * 16, "role": "analyst"},
    )
    page = valid_page(bad, 422)
    assert 'id="create-username-error"' in page and 'value="Bad Name!"' in page
    assert "x" * 16 not in page  # the password is never sent back
    no_station = admin.post(
        "/admin/users",
        data={"csrf_token": admin.csrf, "username": "officer.x", "password": "x" * 16, "role": "station"},
    )
    assert 'id="create-station-error"' in valid_page(no_station, 422)
    made = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf,
            "username": "officer.y",
            "password": "a-long-enough-password",
            "role": "station",
            "station": "PS Fictiva 3",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    listed = valid_page(admin.get(made.headers["location"]))
    assert re.search(r'data-username="officer.y">.*?PS Fictiva 3', listed, re.S)

    officer = TestClient(web_app, base_url="http://127.0.0.1")
    assert login(officer, "officer.y", "a-long-enough-password").status_code == 200
    assert officer.get("/inbox").status_code == 200
    off = admin.post("/admin/users/officer.y/disable", data={"csrf_token": admin.csrf}, follow_redirects=False)
    assert off.status_code == 303
    assert officer.get("/inbox", follow_redirects=False).status_code == 303  # the session ended with the account
    assert (
        login(TestClient(web_app, base_url="http://127.0.0.1"), "officer.y", "a-long-enough-password").status_code
        == 401
    )
    self_disable = admin.post("/admin/users/admin/disable", data={"csrf_token": admin.csrf})
    assert 'role="alert"' in valid_page(self_disable, 422)
    assert admin.post("/admin/users/nobody/disable", data={"csrf_token": admin.csrf}).status_code == 404
    again = admin.post("/admin/users/officer.y/enable", data={"csrf_token": admin.csrf}, follow_redirects=False)
    assert again.status_code == 303
    assert (
        login(TestClient(web_app, base_url="http://127.0.0.1"), "officer.y", "a-long-enough-password").status_code
        == 200
    )


def test_jurisdiction_and_isp_table_uploads(client_for: Any, web_store: WebStore, tmp_path: Path) -> None:
    admin = client_for("admin")
    layer, _ = demo_jurisdiction(tmp_path)
    wrong = admin.post(
        "/admin/jurisdiction",
        data={"csrf_token": admin.csrf},
        files={"layer": ("stations.txt", b"not a layer", "text/plain")},
    )
    assert 'id="layer-layer-error"' in valid_page(wrong, 422)
    loaded = admin.post(
        "/admin/jurisdiction",
        data={"csrf_token": admin.csrf, "station_field": "station", "district_field": "district"},
        files={"layer": ("demo-stations.geojson", layer.read_bytes(), "application/geo+json")},
    )
    page = valid_page(loaded)
    assert 'id="done"' in page and "30 station(s) in 6 district(s)" in page
    assert audit_count(web_store.engine, "jurisdiction.uploaded", "admin") == 1

    table = admin.post(
        "/admin/isp-table",
        data={"csrf_token": admin.csrf},
        files={"table": ("isps.csv", b"name,asn\nExample ISP,64500\n", "text/csv")},
    )
    page = valid_page(table, 422)  # this deployment has no TIPFUSION_ISP_TABLE to replace
    assert 'id="table-table-error"' in page and "TIPFUSION_ISP_TABLE" in page


def test_audit_viewer_filters_pages_and_verifies(client_for: Any, web_store: WebStore) -> None:
    station2 = client_for("station2")
    own = web_store.referrals["own"]
    assert station2.get(f"/inbox/referrals/{own.referral_id}").status_code == 404
    auditor = client_for("auditor")
    page = valid_page(auditor.get("/audit", params={"actor": "station2", "action": "access"}))
    rows = re.findall(r"<tr><td class=\"num\">\d+</td>.*?</tr>", page, re.S)
    assert rows and all("access.denied" in r and "station2" in r for r in rows)
    assert f"referral {own.referral_id}" in page
    first = valid_page(auditor.get("/audit"))
    assert 'rel="next"' in first
    older = valid_page(auditor.get("/audit", params={"page": 2}))
    newest = int(re.findall(r'<td class="num">(\d+)</td>', first)[0])
    assert int(re.findall(r'<td class="num">(\d+)</td>', older)[0]) < newest
    verified = valid_page(auditor.post("/audit/verify", data={"csrf_token": auditor.csrf}))
    assert 'id="verification"' in verified and "Audit chain intact" in verified
    assert audit_count(web_store.engine, "audit.verified", "auditor") >= 1
    assert audit_count(web_store.engine, "view.list", "auditor", "audit log") >= 3


@pytest.mark.browser
def test_browser_auditor_verifies_the_chain(browser_page: Any) -> None:
    page = browser_page
    page.login("auditor")
    page.open("/audit")
    page.fill("#f-action", "access")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    shoot(page, "auditor-audit-log")
    page.click("text=Verify the chain")
    page.wait_for_load_state()
    assert "Audit chain intact" in page.locator("#verification").inner_text()
    shoot(page, "auditor-verified")


@pytest.mark.browser
def test_browser_admin_users_page(browser_page: Any) -> None:
    page = browser_page
    page.login("admin")
    page.open("/admin/users")
    assert page.locator("#accounts tr[data-username='station']").count() == 1
    shoot(page, "admin-users")
    assert DEMO_PASSWORD not in page.content()
