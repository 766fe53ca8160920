"""The services behind the station, supervisor, admin and audit pages: the station map and overdue list under
need-to-know, dashboard exports whose figures are the case records', package parts checked and audited, the audit
viewer's filters and verification, and the admin's uploads refused beside their field — SQLite and PostgreSQL, on
the store `test_workplace` builds once per database.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests import test_workplace as built
from tests.test_workplace import OTHER_STATION, OWN_STATION, PRINCIPALS, Store, denials
from tipfusion.config import Settings
from tipfusion.errors import IntegrityFailure, NotFound
from tipfusion.route.jurisdictions import demo_jurisdiction
from tipfusion.store.tables import audit_events, cases, police_stations
from tipfusion.workplace import FieldErrors, force_dashboard
from tipfusion.workplace.admin import (
    isp_table,
    jurisdiction_summary,
    referral_statements,
    upload_isp_table,
    upload_jurisdiction,
)
from tipfusion.workplace.auditing import AuditFilter, audit_entries, verify_audit
from tipfusion.workplace.packages import package_part
from tipfusion.workplace.supervision import chart_svg, export_dashboard, overdue_list, station_map

template = built.template  # the module's store, built once per database (see test_workplace)
store = built.store  # a private copy per test


def audited(store: Store, action: str, actor: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(audit_events.c.action == action, audit_events.c.actor == actor)
            ).scalar_one()
        )


def test_station_map_carries_the_dashboard_figures_within_scope(store: Store) -> None:
    supervisor = PRINCIPALS["supervisor"]
    shown = station_map(store.engine, store.settings, supervisor)
    with store.engine.connect() as conn:
        stations = conn.execute(select(func.count()).select_from(police_stations)).scalar_one()
        referred = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        arrests = conn.execute(select(func.sum(cases.c.arrests))).scalar_one()
    features = shown.geojson["features"]
    assert len(features) == stations  # every polygon, zeros too
    by_station = {f["properties"]["station"]: f["properties"] for f in features}
    assert by_station[OWN_STATION]["referrals"] == 1
    assert by_station[OTHER_STATION]["firs"] == 1 and by_station[OTHER_STATION]["arrests"] == 1
    mapped = sum(f["properties"]["referrals"] for f in features) + sum(u.totals.referrals for u in shown.unmapped)
    assert mapped == referred  # a case placed with a district only is listed, not lost
    assert sum(f["properties"]["arrests"] for f in features) == arrests
    assert shown.bounds is not None and shown.bounds[0] < shown.bounds[2]
    json.dumps(shown.geojson)  # served as is

    district = station_map(store.engine, store.settings, PRINCIPALS["district-own"])
    assert {f["properties"]["district"] for f in district.geojson["features"]} == {"Demopur"}
    station = station_map(store.engine, store.settings, PRINCIPALS["station-own"])
    assert [f["properties"]["station"] for f in station.geojson["features"]] == [OWN_STATION]
    with pytest.raises(NotFound):
        station_map(store.engine, store.settings, PRINCIPALS["auditor"])


def test_operation_filter_keeps_every_station_listed(store: Store) -> None:
    everything = force_dashboard(store.engine, store.settings, PRINCIPALS["supervisor"])
    none = force_dashboard(store.engine, store.settings, PRINCIPALS["supervisor"], operation="NO-SUCH-DRIVE")
    assert none.total.referrals == 0
    assert sum(len(b.stations) for b in none.districts) <= sum(len(b.stations) for b in everything.districts)
    assert any(line.station == OWN_STATION for b in none.districts for line in b.stations)


def test_overdue_list_is_scoped(store: Store) -> None:
    late = station_map(store.engine, store.settings, PRINCIPALS["supervisor"]).at + timedelta(days=30)
    force = overdue_list(store.engine, store.settings, PRINCIPALS["supervisor"], late)
    own = overdue_list(store.engine, store.settings, PRINCIPALS["station-own"], late)
    other = overdue_list(store.engine, store.settings, PRINCIPALS["station-other"], late)
    district = overdue_list(store.engine, store.settings, PRINCIPALS["district-own"], late)
    references = {i.reference for i in own}
    assert store.built.own.reference in references
    assert all(i.station == OWN_STATION for i in own)
    assert store.built.own.reference not in {i.reference for i in other}
    assert {i.district for i in district} == {"Demopur"}
    assert len(force) >= len(district) >= len(own)
    with pytest.raises(NotFound):
        overdue_list(store.engine, store.settings, PRINCIPALS["auditor"], late)


def test_dashboard_exports_hold_the_case_totals_and_are_audited(store: Store) -> None:
    supervisor = PRINCIPALS["supervisor"]
    dashboard = force_dashboard(store.engine, store.settings, supervisor)
    ElementTree.fromstring(chart_svg(dashboard))  # well-formed SVG for the page and the PDF

    sheet = export_dashboard(store.engine, store.settings, supervisor, "xlsx")
    assert sheet.filename.endswith(".xlsx") and sheet.media_type.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book["Dashboard"].iter_rows(values_only=True))
    assert rows[0][:4] == ("District", "Station", "Referrals", "Acknowledged")
    assert rows[-1][:7] == (
        "All",
        "Total",
        dashboard.total.referrals,
        dashboard.total.acknowledged,
        dashboard.total.firs,
        dashboard.total.arrests,
        dashboard.total.devices,
    )
    assert OWN_STATION in {r[1] for r in rows}
    assert "About" in book.sheetnames

    pdf = export_dashboard(store.engine, store.settings, PRINCIPALS["district-own"], "pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.media_type == "application/pdf"
    assert audited(store, "dashboard.exported", supervisor.username) == 1
    assert audited(store, "dashboard.exported", PRINCIPALS["district-own"].username) == 1
    with pytest.raises(NotFound):
        export_dashboard(store.engine, store.settings, PRINCIPALS["auditor"], "xlsx")


def test_package_parts_are_checked_scoped_and_audited(store: Store) -> None:
    own = store.built.own
    station = PRINCIPALS["station-own"]
    pdf_name = next(name for name in own.files if name.endswith(".pdf") and "certificate" not in name)
    part = package_part(store.engine, station, own.reference, pdf_name)
    assert part.inline and part.media_type == "application/pdf" and part.path.read_bytes().startswith(b"%PDF")
    annex = next(name for name in own.files if name.endswith(".xlsx"))
    assert not package_part(store.engine, station, own.reference, annex).inline
    assert audited(store, "referral.part_opened", station.username) == 2

    other = PRINCIPALS["station-other"]
    with pytest.raises(NotFound):
        package_part(store.engine, other, own.reference, pdf_name)
    assert denials(store.engine, other.username, own.reference) == 1
    with pytest.raises(NotFound):
        package_part(store.engine, station, own.reference, "../../../../etc/passwd")

    part.path.write_bytes(part.path.read_bytes() + b"tampered")
    with pytest.raises(IntegrityFailure, match="no longer matches"):
        package_part(store.engine, station, own.reference, pdf_name)


def test_audit_viewer_filters_pages_and_verifies(store: Store) -> None:
    auditor = PRINCIPALS["auditor"]
    with pytest.raises(NotFound):
        package_part(store.engine, PRINCIPALS["station-other"], store.built.own.reference, "x.pdf")
    everything = audit_entries(store.engine, auditor, limit=5)
    assert len(everything.entries) == 5 and everything.total > 5
    assert [e.seq for e in everything.entries] == sorted((e.seq for e in everything.entries), reverse=True)
    second = audit_entries(store.engine, auditor, limit=5, offset=5)
    assert second.entries[0].seq < everything.entries[-1].seq

    denied = audit_entries(store.engine, auditor, AuditFilter(actor="sid", action="access"))
    assert denied.total == 1 and denied.entries[0].action == "access.denied"
    assert denied.entries[0].object_type == "referral"
    family = audit_entries(store.engine, auditor, AuditFilter(action="case"))
    assert family.total > 0 and all(e.action.startswith("case.") for e in family.entries)
    own = store.built.own.reference
    exact = audit_entries(store.engine, auditor, AuditFilter(object_type="referral", object_id=own))
    assert exact.total >= 1 and {e.object_id for e in exact.entries} == {store.built.own.reference}
    assert audit_entries(store.engine, auditor, AuditFilter(action="%")).total == 0  # no wildcard injection

    check = verify_audit(store.engine, store.settings, auditor)
    assert check.ok and check.chain.count > 0 and not check.problems
    assert audited(store, "audit.verified", auditor.username) == 1
    for role in ("analyst", "supervisor", "station-own"):
        with pytest.raises(NotFound):
            audit_entries(store.engine, PRINCIPALS[role])
        with pytest.raises(NotFound):
            verify_audit(store.engine, store.settings, PRINCIPALS[role])
    assert audit_entries(store.engine, PRINCIPALS["admin"]).total > 0


def test_jurisdiction_upload_replaces_the_layer_or_says_why_not(store: Store, tmp_path: Path) -> None:
    admin = PRINCIPALS["admin"]
    layer, _ = demo_jurisdiction(tmp_path / "layer")
    loaded = upload_jurisdiction(store.engine, admin, "C:\\maps\\stations.geojson", layer.read_bytes())
    assert (loaded.name, loaded.stations, loaded.districts, loaded.problems) == ("stations.geojson", 30, 6, ())
    summary = jurisdiction_summary(store.engine, admin)
    assert summary.stations == 30 and summary.source is not None and loaded.sha256 in summary.source
    assert audited(store, "jurisdiction.uploaded", admin.username) == 1

    with pytest.raises(FieldErrors) as wrong:
        upload_jurisdiction(store.engine, admin, "stations.txt", b"x")
    assert "expected a file ending in" in wrong.value.errors["layer"]
    with pytest.raises(FieldErrors) as broken:
        upload_jurisdiction(store.engine, admin, "stations.geojson", b'{"type": "FeatureCollection", "features": []}')
    assert "stations.geojson" in broken.value.errors["layer"] and "tmp" not in broken.value.errors["layer"]
    assert jurisdiction_summary(store.engine, admin).stations == 30  # the refused file changed nothing
    for role in ("analyst", "supervisor", "auditor"):
        with pytest.raises(NotFound):
            upload_jurisdiction(store.engine, PRINCIPALS[role], "stations.geojson", layer.read_bytes())


ISP_CSV = (
    "name,asn,prefix,network_type,cgnat,nodal_officer,nodal_email,postal_address,log_timezone\n"
    "Example Mobile,64501,,mobile,yes,Nodal Officer,nodal@mobile.example.com,1 Example Road,Asia/Kolkata\n"
    "Example Fibre,64502,,fixed,no,,nodal@fibre.example.com,,UTC\n"
    "Broken,notanumber,,fixed,no,,,,UTC\n"
)


def test_isp_table_upload_and_statements(store: Store, tmp_path: Path) -> None:
    admin = PRINCIPALS["admin"]
    with pytest.raises(FieldErrors, match="TIPFUSION_ISP_TABLE"):
        upload_isp_table(store.engine, store.settings, admin, "isps.csv", ISP_CSV.encode())
    settings = Settings(database_url=store.settings.database_url, isp_table=str(tmp_path / "isp-table.csv"))
    assert isp_table(settings, admin, store.engine).isps == ()
    view = upload_isp_table(store.engine, settings, admin, "isps.csv", ISP_CSV.encode())
    assert [i.name for i in view.isps] == ["Example Fibre", "Example Mobile"]
    assert len(view.problems) == 1 and "isps.csv" in view.problems[0]
    assert (tmp_path / "isp-table.csv").read_text() == ISP_CSV
    assert [i.name for i in isp_table(settings, admin, store.engine).isps] == ["Example Fibre", "Example Mobile"]
    with pytest.raises(FieldErrors, match="no usable ISP"):
        upload_isp_table(store.engine, settings, admin, "isps.csv", b"name,asn\n,\n")
    assert (tmp_path / "isp-table.csv").read_text() == ISP_CSV  # the refused file replaced nothing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".upload-")]
    assert audited(store, "isp_table.replaced", admin.username) == 1
    with pytest.raises(NotFound):
        upload_isp_table(store.engine, settings, PRINCIPALS["analyst"], "isps.csv", ISP_CSV.encode())

    statements = referral_statements(store.engine, store.settings, admin)
    assert statements.source == "built-in" and statements.statements and statements.problem is None
    assert statements.deadlines.acknowledge_hours == 48
    with pytest.raises(NotFound):
        referral_statements(store.engine, store.settings, PRINCIPALS["station-own"])
