"""Jurisdictions and routing: locating (inside, border, outside), CRS conversion, each evidence level, networks
across districts, overrides, bad boundary files."""

from __future__ import annotations

import csv
import json
import sqlite3
import struct
from pathlib import Path

import pytest
import shapefile
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box, mapping
from sqlalchemy import Engine, select

from tipfusion.route.jurisdictions import Jurisdiction, Station, demo_jurisdiction, read_layer
from tipfusion.route.routing import CENTRAL, Evidence, decide
from tipfusion.store.tables import audit_events

A = Station("PS A", "North", box(77.0, 28.5, 77.1, 28.6))
B = Station("PS B", "North", box(77.1, 28.5, 77.2, 28.6))
C = Station("PS C", "South", box(77.0, 28.4, 77.1, 28.5))
CITY = Jurisdiction([A, B, C])


def test_locate_inside_border_outside() -> None:
    inside = CITY.locate(77.05, 28.55)
    assert inside is not None and inside.station.station_id == "PS A" and not inside.on_border
    border = CITY.locate(77.1, 28.55)
    assert (
        border is not None and border.on_border and border.station.station_id == "PS A" and border.others == ("PS B",)
    )
    assert CITY.locate(78.0, 28.55) is None


@pytest.mark.parametrize(
    "evidence,expected",
    [
        ([Evidence("isp_answer", "subscriber", (77.05, 28.55))], ("North", "PS A", "isp_answer", "high")),
        ([Evidence("report_address", "billing", (77.15, 28.55))], ("North", "PS B", "report_address", "medium")),
        ([Evidence("isp_answer", "on the line", (77.1, 28.55))], ("North", "PS A", "isp_answer", "medium")),
        (
            [Evidence("report_address", "a", (77.05, 28.55)), Evidence("report_address", "b", (77.15, 28.55))],
            ("North", None, "report_address", "low"),
        ),
        (
            [Evidence("report_address", "a", (77.05, 28.55)), Evidence("report_address", "b", (77.05, 28.45))],
            (None, None, "central: conflicting addresses", "none"),
        ),
        (
            [Evidence("isp_answer", "subscriber", (77.05, 28.45)), Evidence("report_address", "b", (77.15, 28.55))],
            ("South", "PS C", "isp_answer", "high"),
        ),  # the stronger evidence wins
        ([Evidence("ip_city", "estimate", place="south")], ("South", None, "ip_city", "low")),
        (
            [Evidence("esp_location", "ESP", place="North"), Evidence("ip_city", "IP", place="South")],
            ("North", None, "esp_location", "low"),
        ),
        ([Evidence("ip_city", "x", place="Nowhere")], (None, None, CENTRAL, "none")),
        ([], (None, None, CENTRAL, "none")),
        (
            [Evidence("report_address", "far away", (80.0, 20.0))],
            (None, None, "central: outside the jurisdiction", "none"),
        ),
    ],
)
def test_each_evidence_level(evidence: list[Evidence], expected: tuple[object, ...]) -> None:
    decision = decide(evidence, CITY)
    assert (decision.district, decision.station, decision.basis, decision.confidence) == expected
    assert len(decision.evidence) == len(evidence)


def _projected_features() -> list[dict[str, object]]:
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    features = []
    for station in (A, B, C):
        projected = shapely.transform(
            station.geometry, lambda xy: list(zip(*to_mercator.transform(xy[:, 0], xy[:, 1]), strict=True))
        )
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(projected),
                "properties": {"name": station.station_id, "dist": station.district},
            }
        )
    return features


def test_geojson_in_another_crs(tmp_path: Path) -> None:
    path = tmp_path / "stations.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                "features": _projected_features(),
            }
        )
    )
    stations, problems = read_layer(path, "name", "dist")
    assert not problems
    found = Jurisdiction(stations).locate(77.05, 28.45)
    assert found is not None and found.station.station_id == "PS C"


def test_shapefile_with_prj_and_a_districts_table(tmp_path: Path) -> None:
    path = tmp_path / "stations.shp"
    writer = shapefile.Writer(str(path), shapeType=shapefile.POLYGON)
    writer.field("name", "C")
    for feature in _projected_features():
        writer.shape(feature["geometry"])  # type: ignore[arg-type]
        writer.record(feature["properties"]["name"])  # type: ignore[index]
    writer.close()
    path.with_suffix(".prj").write_text(CRS.from_epsg(3857).to_wkt())
    table = tmp_path / "districts.csv"
    table.write_text("station,district\nPS A,Central\nPS B,Central\nPS C,Outer\n")
    stations, problems = read_layer(path, "name", "district", table)
    assert not problems and {s.district for s in stations} == {"Central", "Outer"}
    found = Jurisdiction(stations).locate(77.15, 28.55)
    assert found is not None and found.station.station_id == "PS B"


def test_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "stations.gpkg"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
              organization_coordsys_id INTEGER, definition TEXT, description TEXT);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
              srs_id INTEGER, z TINYINT, m TINYINT);
            CREATE TABLE stations (fid INTEGER PRIMARY KEY, geom BLOB, station TEXT, district TEXT);
            INSERT INTO gpkg_geometry_columns VALUES ('stations', 'geom', 'POLYGON', 4326, 0, 0);
        """)
        conn.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, ?, '')",
            (__import__("pyproj").CRS.from_epsg(4326).to_wkt(),),
        )
        for station in (A, B, C):
            blob = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", 4326) + shapely.to_wkb(station.geometry)
            conn.execute(
                "INSERT INTO stations (geom, station, district) VALUES (?, ?, ?)",
                (blob, station.station_id, station.district),
            )
    stations, problems = read_layer(path)
    assert not problems and sorted(s.station_id for s in stations) == ["PS A", "PS B", "PS C"]


def test_bad_features_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": mapping(A.geometry),
                        "properties": {"station": "", "district": "N"},
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [77, 28]},
                        "properties": {"station": "PS P", "district": "N"},
                    },
                    {
                        "type": "Feature",
                        "geometry": mapping(B.geometry),
                        "properties": {"station": "PS B", "district": "N"},
                    },
                ],
            }
        )
    )
    stations, problems = read_layer(path)
    assert [s.station_id for s in stations] == ["PS B"]
    assert [(p.line, p.field) for p in problems] == [(1, "station"), (2, "geometry")]


# -- the service ------------------------------------------------------------------------------------------------
def test_routing_end_to_end(engine: Engine, db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tipfusion.cli.main import app
    from tipfusion.config import Settings
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.synth import generate

    result = generate(tmp_path / "batch", 150, seed=31)
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([result.out])
    ref = result.reference
    EnrichService(engine, EnrichConfig(tuple(ref.databases), ref.isp_table, ref.warninglist), "tester").run()
    LinkService(engine, "tester").run()
    layer, pins = demo_jurisdiction(tmp_path / "jurisdiction")
    runner = CliRunner()
    assert runner.invoke(app, ["--database", db_url, "jurisdictions", "import", str(layer)]).exit_code == 0
    routed = runner.invoke(app, ["--database", db_url, "route", "--pins", str(pins)])
    assert routed.exit_code == 0, routed.output
    assert "to a station" in routed.output
    out = tmp_path / "routing.csv"
    assert runner.invoke(app, ["--database", db_url, "export", "routing", "--output", str(out)]).exit_code == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:6] == ["suspect_id", "district", "station", "basis", "confidence", "network_id"]
    stationed = [r for r in rows if r["station"]]
    assert stationed and all(r["basis"] == "report_address" and r["confidence"] in {"medium", "low"} for r in stationed)
    assert all(r["station"] == "" for r in rows if r["basis"] in {"ip_city", "esp_location"})  # weak: never a station
    assert any(r["basis"] == CENTRAL for r in rows)
    central = [r for r in rows if r["network_central"] == "True"]
    for network in {r["network_id"] for r in central}:
        assert len({r["district"] for r in rows if r["network_id"] == network and r["district"]}) > 1

    suspect = rows[0]["suspect_id"]
    overridden = runner.invoke(
        app,
        [
            "--database",
            db_url,
            "route",
            "override",
            suspect,
            "--station",
            "PS Demopur 3",
            "--reason",
            "subscriber confirmed by phone",
        ],
    )
    assert overridden.exit_code == 0, overridden.output
    runner.invoke(app, ["--database", db_url, "route", "--pins", str(pins)])
    runner.invoke(app, ["--database", db_url, "export", "routing", "--output", str(out)])
    row = next(r for r in csv.DictReader(out.open()) if r["suspect_id"] == suspect)
    assert (row["district"], row["station"], row["basis"], row["overridden"]) == (
        "Demopur",
        "PS Demopur 3",
        "analyst override",
        "True",
    )
    with engine.connect() as conn:
        assert "route.override" in set(conn.execute(select(audit_events.c.action)).scalars())
    bad = runner.invoke(
        app, ["--database", db_url, "route", "override", suspect, "--station", "PS Nowhere", "--reason", "x"]
    )
    assert bad.exit_code != 0


def test_deconfliction_flags_both_sides(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Two people sharing a family phone, routed to different stations; one of them in a foreign lead list."""
    from tipfusion.config import Settings
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.route.service import import_jurisdiction, route_all, routing_rows

    def report(first: str, account: str, email: str, pin: str) -> str:
        return (
            "<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
            "<incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime></incidentSummary>"
            "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
            f"<personOrUserReported><personOrUserReportedPerson><firstName>{first}</firstName>"
            '<lastName>Rao</lastName><phone countryCallingCode="+49">1555 0000123</phone>'
            f"<email>{email}</email><address><zipCode>{pin}</zipCode><country>IN</country></address>"
            f"</personOrUserReportedPerson><espIdentifier>{account}</espIdentifier></personOrUserReported></report>"
        )

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_text(report("Asha", "u-asha", "asha@example.net", "901001"))
    (batch / "100000043.xml").write_text(report("Ravi", "u-ravi", "second@example.net", "906005"))
    (batch / "lead.csv").write_text(
        "lead_ref,agency,kind,value,country\nDE-9,Example Foreign Police,email,second@example.net,\n"
    )
    assert IngestService(engine, Settings(database_url=db_url), "t").ingest_paths([batch]).quarantined == 0
    LinkService(engine, "t").run()
    layer, pins = demo_jurisdiction(tmp_path / "jurisdiction")
    import_jurisdiction(engine, "t", layer, synthetic=True)
    summary = route_all(engine, "t", pins)
    rows = {r["suspect_id"]: r for r in routing_rows(engine)}
    assert len(rows) == 2 and summary.deconfliction == 2
    assert {r["station"] for r in rows.values()} == {"PS Exampleton 1", "PS Fictiva 5"}
    assert all("phone +4915550000123 also held by" in r["deconfliction"] for r in rows.values())
    assert "named in lead DE-9 from Example Foreign Police" in rows["S100000043"]["deconfliction"]


def test_deconfliction_names_a_shared_handset_as_received(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Two people on one handset, one report giving its IMEI and the other its IMEISV: the note a station reads
    names both IDs as the ESPs sent them, not the 14 digits linking compared."""
    from tipfusion.config import Settings
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.route.service import import_jurisdiction, route_all, routing_rows

    def report(first: str, account: str, pin: str, id_type: str, device: str) -> str:
        return (
            "<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
            "<incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime></incidentSummary>"
            "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
            f"<personOrUserReported><personOrUserReportedPerson><firstName>{first}</firstName><lastName>Rao</lastName>"
            f"<address><zipCode>{pin}</zipCode><country>IN</country></address></personOrUserReportedPerson>"
            f"<espIdentifier>{account}</espIdentifier><deviceId><idType>{id_type}</idType><idValue>{device}</idValue>"
            "</deviceId></personOrUserReported></report>"
        )

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_text(report("Asha", "u-asha", "901001", "IMEI", "49-015420-323751-8"))
    (batch / "100000043.xml").write_text(report("Ravi", "u-ravi", "906005", "IMEISV", "4901542032375101"))
    assert IngestService(engine, Settings(database_url=db_url), "t").ingest_paths([batch]).quarantined == 0
    LinkService(engine, "t").run()
    layer, pins = demo_jurisdiction(tmp_path / "jurisdiction")
    import_jurisdiction(engine, "t", layer, synthetic=True)
    route_all(engine, "t", pins)
    rows = {r["suspect_id"]: r for r in routing_rows(engine)}
    assert len(rows) == 2 and len({r["station"] for r in rows.values()}) == 2
    for row in rows.values():
        assert "device IMEI:490154203237518, IMEISV:4901542032375101 also held by" in row["deconfliction"]


def test_india_post_geocoding_precision() -> None:
    from tipfusion.route.geocode import HINT, PRECISE, geocode

    own = geocode("901001", "", {"901001": (77.02, 28.52, "Exampleton sector 1")})
    assert own is not None and own.precision == PRECISE and own.source == "unit PIN list"
    office = geocode("110001", "Flat 2, near New Delhi GPO", {})
    assert office is not None and office.precision == PRECISE and "New Delhi GPO" in office.source
    centroid = geocode("110001", "somewhere unnamed", {})
    assert centroid is not None and centroid.precision == HINT
    assert geocode("11000X", "", {}) is None


def test_a_pin_centroid_names_a_district_never_a_station() -> None:
    hint = Evidence("report_address", "PIN only", (77.05, 28.55), hint_only=True)
    decision = decide([hint], CITY)
    assert (decision.district, decision.station, decision.basis, decision.confidence) == (
        "North",
        None,
        "pin_hint",
        "low",
    )
    precise = Evidence("report_address", "post office", (77.05, 28.45))
    assert decide([hint, precise], CITY).station == "PS C"


def test_a_landline_routes_to_the_district_of_its_exchange(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """A landline's exchange (from the unit's table, longest prefix first) names a district, never a station."""
    from tipfusion.config import Settings
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.errors import ConfigurationError
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.route.service import import_jurisdiction, route_all, routing_rows

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000077.xml").write_text(
        "<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
        "<incidentDateTime>2025-03-14T21:07:33Z</incidentDateTime></incidentSummary>"
        "<reporter><reportingPerson><email>t@esp.test</email></reportingPerson></reporter>"
        "<personOrUserReported><personOrUserReportedPerson><firstName>Asha</firstName>"
        '<phone countryCallingCode="+91">11 2345 6789</phone></personOrUserReportedPerson>'
        "<espIdentifier>u-landline</espIdentifier></personOrUserReported></report>"
    )
    IngestService(engine, Settings(database_url=db_url), "t").ingest_paths([batch])
    EnrichService(engine, EnrichConfig(), "t").run()
    LinkService(engine, "t").run()
    layer, _ = demo_jurisdiction(tmp_path / "jurisdiction")
    import_jurisdiction(engine, "t", layer, synthetic=True)
    table = tmp_path / "landlines.csv"
    table.write_text("prefix,district\n+91 11,Fictiva\n+91 11 23,Demopur\n")
    route_all(engine, "t", None, table)
    (row,) = routing_rows(engine)
    assert (row["district"], row["station"], row["basis"], row["confidence"]) == ("Demopur", "", "landline_area", "low")
    route_all(engine, "t", None)  # without the table: the area libphonenumber knows (New Delhi) is no district here
    (row,) = routing_rows(engine)
    assert (row["district"], row["basis"]) == ("", CENTRAL)
    table.write_text("prefix,district\n,Demopur\n")
    with pytest.raises(ConfigurationError, match=r"landlines\.csv:2"):
        route_all(engine, "t", None, table)


def test_a_decision_names_the_evidence_it_went_by() -> None:
    """The referral's routing line shows the address a suspect was routed by: the located evidence of the kind
    that decided, not every address seen (an outside one, a weaker kind)."""
    decision = decide(
        [
            Evidence("report_address", "report 1: House 4, Sector 2, 110001", (77.15, 28.55)),
            Evidence("report_address", "report 2: far away", (80.0, 20.0)),
            Evidence("ip_city", "report 3: IP estimate North", place="North"),
        ],
        CITY,
    )
    assert (decision.station, decision.decided_by) == ("PS B", ["report 1: House 4, Sector 2, 110001"])
    split = decide(
        [Evidence("report_address", "a", (77.05, 28.55)), Evidence("report_address", "b", (77.15, 28.55))], CITY
    )
    assert (split.station, split.decided_by) == (None, ["a", "b"])  # both stations' addresses, for the district
    hinted = decide([Evidence("report_address", "PIN 110001 only", (77.05, 28.55), hint_only=True)], CITY)
    assert hinted.decided_by == ["PIN 110001 only"]
    voted = decide(
        [Evidence("esp_location", "ESP: North", place="North"), Evidence("ip_city", "x", place="South")], CITY
    )
    assert (voted.basis, voted.decided_by) == ("esp_location", ["ESP: North"])
    assert decide([], CITY).decided_by == []
    twice = decide([Evidence("ip_city", "report 9: IP estimate North", place="North")] * 2, CITY)
    assert twice.decided_by == ["report 9: IP estimate North"]  # two sightings, one line
