"""Enrichment: built .mmdb fixtures, each network type, identifiability, database replacement, bad tables."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet
from sqlalchemy import Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings
from tipfusion.enrich.demo import DemoReference, build_demo_reference
from tipfusion.enrich.email import DisposableDomains, describe_email
from tipfusion.enrich.export import ip_rows
from tipfusion.enrich.identify import REASONS, identifiability
from tipfusion.enrich.ip import IpEnricher
from tipfusion.enrich.isp_table import load_isp_table
from tipfusion.enrich.phone import describe_phone
from tipfusion.enrich.service import EnrichConfig, EnrichService
from tipfusion.errors import ConfigurationError
from tipfusion.ingest import IngestService
from tipfusion.normalise import clean
from tipfusion.store.tables import identifier_observations, ip_enrichments

WHEN = datetime(2025, 3, 14, 21, 7, 31, tzinfo=UTC)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> DemoReference:
    return build_demo_reference(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="session")
def enricher(reference: DemoReference) -> IpEnricher:
    return IpEnricher.from_paths(reference.databases, reference.isp_table, reference.warninglist)


@pytest.mark.parametrize(
    "ip,network_type,isp,cgnat",
    [
        ("198.18.3.4", "fixed", "Example Fixed Broadband (synthetic)", False),
        ("198.19.0.7", "mobile_cgnat", "Example Mobile (synthetic)", True),
        ("2001:db8:1::1", "mobile", "Example Mobile (synthetic)", False),
        ("2001:db8:9000::1", "fixed", "Example Fixed Broadband (synthetic)", False),
        ("203.0.113.5", "hosting_vpn", "Example Hosting (synthetic)", False),  # VPN exit on the warninglist
        ("203.0.113.200", "hosting_vpn", "Example Hosting (synthetic)", False),  # hosting ISP in the ISP table
        ("10.1.2.3", "private", None, False),
        ("100.64.1.1", "private", None, False),  # shared CGNAT space, never public
        ("127.0.0.1", "reserved", None, False),
        ("198.51.100.7", "reserved", None, False),  # documentation range no DB covers
        ("8.8.8.8", "hosting_vpn", None, False),  # public DNS, built-in warninglist
        ("1.2.3.4", "unknown", None, False),  # public, not covered
    ],
)
def test_network_types(enricher: IpEnricher, ip: str, network_type: str, isp: str | None, cgnat: bool) -> None:
    info = enricher.lookup(ip)
    assert (info.network_type, info.isp_name, info.cgnat) == (network_type, isp, cgnat)


def test_location_is_an_estimate_with_radius(enricher: IpEnricher) -> None:
    info = enricher.lookup("198.19.0.7")
    assert (info.country_estimate, info.city_estimate, info.accuracy_radius_km) == ("IN", "Exampleton", 200)
    assert info.asn == 64501 and info.log_timezone == "Asia/Kolkata"
    assert enricher.lookup("203.0.113.200").log_timezone == "UTC"


@pytest.mark.parametrize(
    "network_type,version,port,when,flags,expected",
    [
        ("mobile_cgnat", 4, None, WHEN, None, (False, "cgnat_no_port")),
        ("mobile_cgnat", 4, 51322, WHEN, None, (True, "cgnat_port_time")),
        ("mobile_cgnat", 4, 51322, None, None, (False, "no_time")),
        ("mobile_cgnat", 4, 51322, WHEN, "ipv4,no_timezone", (False, "no_zone")),
        ("fixed", 4, None, WHEN, None, (True, "ip_time")),
        ("mobile", 6, None, WHEN, None, (True, "ipv6_time")),
        ("hosting_vpn", 4, 1, WHEN, None, (False, "hosting_vpn")),
        ("private", 4, 1, WHEN, None, (False, "not_routable")),
        ("unknown", 4, 1, WHEN, None, (False, "unknown_isp")),
    ],
)
def test_identifiability(
    network_type: str,
    version: int,
    port: int | None,
    when: datetime | None,
    flags: str | None,
    expected: tuple[bool, str],
) -> None:
    assert identifiability(network_type, version, port, when, flags) == expected
    assert expected[1] in REASONS


def test_bad_isp_table_rows_are_named_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "isps.csv"
    path.write_text(
        "name,asn,prefix,network_type,cgnat,nodal_officer,nodal_email,postal_address,log_timezone\n"
        "Good ISP,64510,,fixed,no,Officer,officer@good.example.com,Address,Asia/Kolkata\n"
        "Bad ASN,AS-x,,fixed,no,,,,\n"
        "Bad Prefix,,10.0.0.0/33,fixed,no,,,,\n"
        "Bad Zone,64511,,fixed,no,,,,Mars/Olympus\n"
        "Bad Type,64512,,satellite,maybe,,not-an-email,,\n"
        ",64513,,fixed,no,,,,\n"
    )
    table = load_isp_table(path)
    assert set(table.isps) == {"Good ISP"} and table.by_asn[64510].nodal_email == "officer@good.example.com"
    found = {(p.line, p.field) for p in table.problems}
    assert found == {
        (3, "asn"),
        (4, "prefix"),
        (5, "log_timezone"),
        (6, "network_type"),
        (6, "cgnat"),
        (6, "nodal_email"),
        (7, "name"),
    }
    assert all(str(p).startswith(f"{path}:") for p in table.problems)


def test_yaml_isp_table(tmp_path: Path) -> None:
    path = tmp_path / "isps.yaml"
    path.write_text(
        "- name: Yaml Mobile\n  network_type: mobile\n  cgnat: yes\n  asns: [64520]\n"
        "  prefixes: [{prefix: 198.19.1.0/24, cgnat: yes}]\n  log_timezone: Asia/Kolkata\n"
        "- name: Broken\n  asns: [banana]\n"
    )
    table = load_isp_table(path)
    assert table.by_asn[64520].cgnat and table.isps["Yaml Mobile"].network_type == "mobile"
    assert [p.field for p in table.problems] == ["asn"]


def test_missing_and_corrupt_databases(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        IpEnricher.from_paths([tmp_path / "absent.mmdb"], None, None)
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigurationError, match="not a readable MaxMind DB"):
        IpEnricher.from_paths([corrupt], None, None)


# -- the service, on both databases ------------------------------------------------------------------------------
def _ingest(engine: Engine, db_url: str, batch: Path) -> None:
    summary = IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    assert summary.quarantined == 0


def test_enrich_end_to_end_and_incremental(
    engine: Engine, db_url: str, synthetic_batch: Path, reference: DemoReference, tmp_path: Path
) -> None:
    _ingest(engine, db_url, synthetic_batch)
    config = EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist)
    first = EnrichService(engine, config, "tester").run()
    assert first.ips_new == first.ips_looked_up > 0 and first.sightings_assessed > 0
    assert 0 < first.sightings_identifiable < first.sightings_assessed
    assert {"fixed", "mobile_cgnat"} <= set(first.network_types)
    assert first.phones > 0 and first.emails > 0
    with engine.connect() as conn:
        unassessed = conn.execute(
            select(identifier_observations.c.id).where(
                identifier_observations.c.kind == "ip", identifier_observations.c.identifiable.is_(None)
            )
        ).all()
        assert unassessed == []
        cgnat = conn.execute(
            select(
                identifier_observations.c.identifiable,
                identifier_observations.c.port,
                identifier_observations.c.identifiability_note,
            )
            .select_from(
                identifier_observations.join(ip_enrichments, ip_enrichments.c.ip == identifier_observations.c.canonical)
            )
            .where(ip_enrichments.c.network_type == "mobile_cgnat")
        ).all()
        assert cgnat and all(r.identifiable == (r.port is not None) for r in cgnat)
    again = EnrichService(engine, config, "tester").run()
    assert (again.ips_looked_up, again.sightings_assessed, again.phones, again.emails) == (0, 0, 0, 0)

    # a new batch: only what is new is looked up
    more = tmp_path / "more"
    more.mkdir()
    (more / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    _ingest(engine, db_url, more)
    incremental = EnrichService(engine, config, "tester").run()
    assert incremental.ips_new == 4 and incremental.sightings_assessed == 4


def test_replacing_a_database_re_enriches_only_what_changed(
    engine: Engine, db_url: str, synthetic_batch: Path, reference: DemoReference, tmp_path: Path
) -> None:
    _ingest(engine, db_url, synthetic_batch)
    config = EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist)
    first = EnrichService(engine, config, "tester").run()
    # the unit replaces its ASN database: fixed-line space now belongs to another (unknown) network
    newer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="tipfusion-demo-ASN", description="replacement"
    )
    newer.insert_network(
        IPSet(["198.18.0.0/16"]),
        {"autonomous_system_number": MmdbU32(64499), "autonomous_system_organization": "Example Fibre (synthetic)"},
    )
    newer.insert_network(
        IPSet(["198.19.0.0/16"]),
        {"autonomous_system_number": MmdbU32(64501), "autonomous_system_organization": "Example Mobile (synthetic)"},
    )
    for network, asn in [
        ("203.0.113.0/24", 64502),
        ("192.0.2.0/24", 64500),
        ("2001:db8::/33", 64501),
        ("2001:db8:8000::/33", 64500),
    ]:
        newer.insert_network(
            IPSet([network]), {"autonomous_system_number": MmdbU32(asn), "autonomous_system_organization": "same"}
        )
    replacement = tmp_path / "asn-v2.mmdb"
    newer.to_db_file(str(replacement))
    second = EnrichService(
        engine,
        EnrichConfig((replacement, reference.city_database), reference.isp_table, reference.warninglist),
        "tester",
    ).run()
    assert second.ips_looked_up == first.ips_looked_up  # new versions: every answer checked
    assert second.ips_changed > 0 and second.ips_unchanged > 0 and second.ips_new == 0
    with engine.connect() as conn:
        fixed = conn.execute(select(ip_enrichments).where(ip_enrichments.c.ip.like("198.18.%"))).all()
        assert fixed and all(r.isp_name == "Example Fibre (synthetic)" and r.network_type == "unknown" for r in fixed)
        assert all("asn-v2" not in r.sources and r.sources == second.sources for r in fixed)
        reassessed = (
            conn.execute(
                select(identifier_observations.c.identifiability_note).where(
                    identifier_observations.c.canonical.like("198.18.%")
                )
            )
            .scalars()
            .all()
        )
        assert reassessed and set(reassessed) == {"unknown_isp"}


def test_export_ips(
    engine: Engine, db_url: str, synthetic_batch: Path, reference: DemoReference, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from tipfusion.cli.main import app

    _ingest(engine, db_url, synthetic_batch)
    runner = CliRunner()
    args = [
        "--database",
        db_url,
        "enrich",
        "--ip-database",
        str(reference.asn_database),
        "--ip-database",
        str(reference.city_database),
        "--isp-table",
        str(reference.isp_table),
        "--warninglist",
        str(reference.warninglist),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "IP sightings assessed" in result.output
    out = tmp_path / "ips.csv"
    result = runner.invoke(app, ["--database", db_url, "export", "ips", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    cgnat = [r for r in rows if r["network_type"] == "mobile_cgnat"]
    assert cgnat and all(int(r["accounts"]) >= 1 and int(r["reports"]) >= 1 for r in cgnat)
    assert max(int(r["accounts"]) for r in cgnat) > 1  # one CGNAT address, many accounts
    assert all(r["first_seen_local"].endswith("+05:30") and r["first_seen_utc"].endswith("Z") for r in rows)
    json_out = tmp_path / "ips.json"
    runner.invoke(app, ["--database", db_url, "export", "ips", "--format", "json", "--output", str(json_out)])
    assert {r["ip"] for r in json.loads(json_out.read_text())} == {r["ip"] for r in rows}
    with engine.connect() as conn:
        from zoneinfo import ZoneInfo

        assert len(ip_rows(conn, ZoneInfo("Asia/Kolkata"))) == len(rows)


# -- phones and emails ---------------------------------------------------------------------------------------------
def test_phone_description() -> None:
    mobile = describe_phone("+919811012345")
    assert mobile.valid and mobile.number_type == "mobile" and mobile.region == "IN"
    landline = describe_phone("+911123456789")
    assert landline.valid and landline.number_type == "fixed_line" and landline.area
    assert not describe_phone("+911").valid


@given(st.integers(min_value=6_000_000_000, max_value=9_999_999_999))
def test_phone_description_agrees_with_the_normaliser(national: int) -> None:
    cleaned = clean("phone", str(national))
    assert cleaned is not None
    info = describe_phone(cleaned.value)
    assert info.valid == cleaned.valid
    if info.valid:
        assert info.region == "IN" and info.number_type == cleaned.detail


def test_disposable_domains(tmp_path: Path) -> None:
    builtin = DisposableDomains()
    assert describe_email("someone@mailinator.com", builtin).disposable
    assert describe_email("someone@sub.mailinator.com", builtin).disposable
    assert not describe_email("someone@example.com", builtin).disposable
    own = tmp_path / "own.txt"
    own.write_text("# the unit's own list\nthrowaway.example.org\n")
    extended = DisposableDomains(own)
    assert describe_email("a@throwaway.example.org", extended).disposable and extended.version != builtin.version


@given(
    st.from_regex(r"[a-z][a-z0-9.+]{0,12}[a-z0-9]", fullmatch=True),
    st.sampled_from(["gmail.com", "example.com", "mail.example.com", "outlook.com"]),
)
def test_email_description_agrees_with_the_normaliser(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    cleaned = clean("email", address)
    info = describe_email(address, DisposableDomains())
    assert cleaned is not None
    assert info.canonical == cleaned.canonical and info.domain == domain
    assert info.provider_rule == (cleaned.canonical != cleaned.value)
