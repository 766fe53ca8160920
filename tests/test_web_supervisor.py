"""The supervisor's pages over HTTP: the dashboard's totals equal the case records, every station is listed (zeros
included) with district subtotals, exports to PDF and Excel (audited), the station map's GeoJSON under each scope and
its table without JavaScript, the role matrix — SQLite and PostgreSQL — and the browser: dashboard totals against the
cases, the map drawn by the vendored Leaflet over the station polygons.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.web_pages import audit_count, valid_page
from tests.web_support import WebStore, shoot
from tipfusion.store.tables import cases, police_stations

ROLES = ("admin", "analyst", "supervisor", "district", "station", "station2", "auditor")
PAGES = ("/dashboard", "/map", "/map/stations.geojson", "/dashboard/export.xlsx")


def case_totals(store: WebStore) -> dict[str, int]:
    """What the case records themselves say, counted here without the services."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                func.count(),
                func.count(cases.c.fir_number),
                func.coalesce(func.sum(cases.c.arrests), 0),
                func.coalesce(func.sum(cases.c.devices_seized), 0),
            )
        ).one()
    return {"referrals": int(row[0]), "firs": int(row[1]), "arrests": int(row[2]), "devices": int(row[3])}


def shown_totals(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-total="(\w+)">(\d+)<', html)}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client_for: Any, role: str) -> None:
    client = client_for(role)
    for url in PAGES:
        assert client.get(url).status_code == (404 if role == "auditor" else 200), f"{role} {url}"


def test_dashboard_totals_equal_the_case_records_and_every_station_is_listed(
    client_for: Any, web_store: WebStore
) -> None:
    html = valid_page(client_for("supervisor").get("/dashboard"))
    totals = shown_totals(html)
    expected = case_totals(web_store)
    assert {k: totals[k] for k in expected} == expected
    with web_store.engine.connect() as conn:
        stations = set(conn.execute(select(police_stations.c.station_id)).scalars())
    listed = set(re.findall(r'<tr data-station="([^"]+)">', html))
    assert stations <= listed  # zeros included
    assert html.count('class="subtotal"') == len({s.split(" ")[1] for s in stations})  # one per district
    assert "<svg" in html and "Referrals, FIRs and arrests" in html
    assert audit_count(web_store.engine, "view.list", "supervisor", "dashboard") >= 1

    district = valid_page(client_for("district").get("/dashboard"))
    rows = set(re.findall(r'<tr data-station="([^"]+)">', district))
    assert rows and all(r.startswith("PS Demopur") for r in rows if r)


def test_exports_are_files_with_the_same_totals_and_audited(client_for: Any, web_store: WebStore) -> None:
    supervisor = client_for("supervisor")
    sheet = supervisor.get("/dashboard/export.xlsx")
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(sheet.content))["Dashboard"].iter_rows(values_only=True))
    expected = case_totals(web_store)
    assert rows[-1][:3] == ("All", "Total", expected["referrals"])
    pdf = supervisor.get("/dashboard/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert audit_count(web_store.engine, "dashboard.exported", "supervisor") >= 2
    assert supervisor.get("/dashboard/export.csv").status_code == 404


def test_station_map_geojson_and_table_follow_the_scope(client_for: Any, web_store: WebStore) -> None:
    supervisor = client_for("supervisor")
    layer = supervisor.get("/map/stations.geojson")
    assert layer.headers["content-type"].startswith("application/geo+json")
    features = layer.json()["features"]
    with web_store.engine.connect() as conn:
        assert len(features) == conn.execute(select(func.count()).select_from(police_stations)).scalar_one()
    assert sum(f["properties"]["arrests"] for f in features) == case_totals(web_store)["arrests"]
    html = valid_page(supervisor.get("/map"))
    assert 'data-geojson="/map/stations.geojson"' in html and 'id="map-table"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "://" not in html  # nothing from another server
    station = client_for("station").get("/map/stations.geojson").json()["features"]
    assert [f["properties"]["station"] for f in station] == ["PS Demopur 1"]
    district = client_for("district").get("/map/stations.geojson").json()["features"]
    assert {f["properties"]["district"] for f in district} == {"Demopur"}


def test_static_leaflet_is_served_from_this_server(client_for: Any) -> None:
    client = client_for("supervisor")
    script = client.get("/static/vendor/leaflet/leaflet.js")
    assert script.status_code == 200 and b"Leaflet" in script.content[:400] + script.content[-400:]
    assert client.get("/static/vendor/leaflet/leaflet.css").status_code == 200
    drawing = client.get("/static/station-map.js")
    assert drawing.status_code == 200 and "tileLayer" not in drawing.text  # the base layer is the stations


@pytest.mark.browser
def test_browser_supervisor_dashboard_totals_equal_the_case_records(browser_page: Any, web_store: WebStore) -> None:
    page = browser_page
    page.login("supervisor")
    page.open("/dashboard")
    expected = case_totals(web_store)
    for key, value in expected.items():
        assert page.locator(f'#dashboard-total td[data-total="{key}"]').inner_text() == str(value)
    shoot(page, "supervisor-dashboard")
    page.open("/map")
    page.wait_for_selector("#station-map.drawn", timeout=15_000)
    with web_store.engine.connect() as conn:
        stations = conn.execute(select(func.count()).select_from(police_stations)).scalar_one()
    assert page.locator("#station-map").get_attribute("data-features") == str(stations)
    assert page.locator("#station-map path.leaflet-interactive").count() == stations
    shoot(page, "supervisor-map")
