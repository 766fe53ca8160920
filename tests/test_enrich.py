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
from tipfusion.store import enrichment
from tipfusion.store.bulk import insert_rows
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
    with pytest.raises(ConfigurationError, match=f"^{corrupt}: not a valid MaxMind DB file, or a corrupt one"):
        IpEnricher.from_paths([corrupt], None, None)


# -- the service, on both databases ------------------------------------------------------------------------------
def _ingest(engine: Engine, db_url: str, batch: Path) -> None:
    summary = IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    assert summary.quarantined == 0


def test_enrich_end_to_end_and_incremental(
    engine: Engine,
    db_url: str,
    synthetic_batch: Path,
    reference: DemoReference,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _ingest(engine, db_url, synthetic_batch)
    config = EnrichConfig(tuple(reference.databases), reference.isp_table, reference.warninglist)
    monkeypatch.setattr(enrichment, "SLICE", 7)  # many slices of the address space: none left out or done twice
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
        # the set-based pass stored what the Python rule says of every sighting (as the per-row pass did)
        o, e = identifier_observations, ip_enrichments
        assessed = conn.execute(
            select(o.c.identifiable, o.c.identifiability_note, e.c.network_type, e.c.ip_version, o.c)
            .select_from(o.join(e, e.c.ip == o.c.canonical))
            .where(o.c.kind == "ip")
        ).all()
        assert len(assessed) == first.sightings_assessed
        assert sum(bool(r.identifiable) for r in assessed) == first.sightings_identifiable
        for r in assessed:
            rule = identifiability(r.network_type, r.ip_version, r.port, r.observed_at, r.flags)
            assert (r.identifiable, r.identifiability_note) == rule
    again = EnrichService(engine, config, "tester").run()
    assert (again.ips_looked_up, again.sightings_assessed, again.phones, again.emails) == (0, 0, 0, 0)

    # a new batch: only what is new is looked up
    more = tmp_path / "more"
    more.mkdir()
    (more / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    _ingest(engine, db_url, more)
    incremental = EnrichService(engine, config, "tester").run()
    assert incremental.ips_new == 4 and incremental.sightings_assessed == 4


def test_identifiability_in_sql_is_the_rule_in_python(engine: Engine) -> None:
    """Every combination of the rule's inputs (and flags that only look alike) through `assess_ip_sightings`, in
    slices of three addresses, against `identifiability`."""
    kinds = ("private", "reserved", "hosting_vpn", "unknown", "fixed", "mobile", "mobile_cgnat")
    flag_sets = (None, "", "no_timezone", "ipv4,no_timezone", "NO_TIMEZONE", "noXtimezone", "a, no_timezone", "x")
    answers, sightings, expected = [], [], {}
    for number, (kind, version) in enumerate((k, v) for k in kinds for v in (4, 6)):
        ip = f"198.18.0.{number}" if version == 4 else f"2001:db8::{number:x}"
        answers.append((ip, version, "public", kind, False, "rules", WHEN))
        for port in (None, 51322):
            for when in (None, WHEN):
                for flags in flag_sets:
                    ident = len(sightings) + 1
                    sightings.append((ident, 1, 1, True, "ip", ip, ip, ip, True, flags, when, port, "test", "/ip"))
                    expected[ident] = identifiability(kind, version, port, when, flags)
    sightings.append(
        (len(sightings) + 1, 1, 1, True, "ip", "192.0.2.9", "192.0.2.9", "x", True, None, WHEN, 1, "t", "/")
    )
    with engine.begin() as conn:
        insert_rows(
            conn,
            ip_enrichments,
            ("ip", "ip_version", "ip_class", "network_type", "cgnat", "sources", "enriched_at"),
            answers,
        )
        columns = ("id", "report_id", "version", "is_current", "kind", "value", "canonical", "raw", "valid")
        columns += ("flags", "observed_at", "port", "origin", "path")
        insert_rows(conn, identifier_observations, columns, sightings)
        firsts = enrichment.ip_slices(conn, 3)
        assert len(firsts) == 5
        counts = [
            enrichment.assess_ip_sightings(conn, first, firsts[i + 1] if i + 1 < len(firsts) else None)
            for i, first in enumerate(firsts)
        ]
        assert sum(n for n, _ in counts) == len(expected)
        assert sum(ok for _, ok in counts) == sum(ok for ok, _ in expected.values())
        o = identifier_observations
        stored = {r.id: (r.identifiable, r.identifiability_note) for r in conn.execute(select(o))}
    assert stored == {**expected, len(sightings): (None, None)}  # no answer for its address: not assessed


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


# -- MaxMind's own test databases (real files, read in place) -------------------------------------------------------
# The networks below were read from the files themselves with the `maxminddb` reader (they are MaxMind's documented
# test networks, public addresses on purpose): e.g. GeoLite2-ASN-Test has 1.128.0.0/11 as AS1221 "Telstra Pty Ltd",
# GeoIP2-ISP-Test has the same network as ISP "Telstra Internet".
REAL_MMDB = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples" / "mmdb"
ASN_DB, ISP_DB, CITY_DB, ENTERPRISE_DB = (
    "GeoLite2-ASN-Test.mmdb",
    "GeoIP2-ISP-Test.mmdb",
    "GeoIP2-City-Test.mmdb",
    "GeoIP2-Enterprise-Test.mmdb",
)


@pytest.fixture(scope="module")
def real_mmdb() -> Path:
    if not REAL_MMDB.is_dir():
        pytest.skip(f"MaxMind test databases not found at {REAL_MMDB} (the shared real-samples folder is absent)")
    return REAL_MMDB


def _real(folder: Path, *names: str, isp_table: Path | None = None) -> IpEnricher:
    return IpEnricher.from_paths([folder / n for n in names], isp_table, None)


def test_isp_database_names_the_isp_not_the_as_organisation(real_mmdb: Path) -> None:
    """ASN + ISP + City: the ISP column is the ISP's name; the AS organisation stays in its own field."""
    enricher = _real(real_mmdb, ASN_DB, ISP_DB, CITY_DB)
    telstra = enricher.lookup("1.128.0.1")
    assert (telstra.asn, telstra.as_org) == (1221, "Telstra Pty Ltd")
    assert (telstra.isp_name, telstra.isp_source, telstra.organization) == (
        "Telstra Internet",
        "isp_database",
        "Telstra Internet",
    )
    assert telstra.answered_by == {
        "asn": "GeoLite2-ASN",
        "as_org": "GeoLite2-ASN",
        "isp_name": "GeoIP2-ISP",
        "organization": "GeoIP2-ISP",
    }
    assert telstra.country_estimate is None  # GeoIP2-City-Test does not know this network
    verizon = enricher.lookup("149.101.100.1")  # a mobile network: the ISP database carries MCC/MNC
    assert (verizon.isp_name, verizon.mobile_country_code, verizon.mobile_network_code) == (
        "Verizon Wireless",
        "310",
        "004",
    )
    assert (verizon.asn, verizon.as_org, verizon.country_estimate, verizon.accuracy_radius_km) == (
        6167,
        "CELLCO-PART",
        "US",
        1000,
    )
    assert verizon.answered_by["location"] == "GeoIP2-City"
    office = enricher.lookup("81.2.69.160")  # no AS in any of the three: ISP and user organisation still named
    assert (office.asn, office.isp_name, office.organization) == (
        None,
        "Andrews & Arnold Ltd",
        "STONEHOUSE office network",
    )
    assert (office.country_estimate, office.city_estimate) == ("GB", "London")
    assert all(d.kind in {"asn", "isp", "city"} for d in enricher.databases) and not enricher.problems
    enricher.close()


def test_enterprise_database_is_read_under_traits(real_mmdb: Path) -> None:
    enricher = _real(real_mmdb, ENTERPRISE_DB)
    qwest = enricher.lookup("65.116.3.81")
    assert (qwest.asn, qwest.as_org) == (209, "Qwest Communications Company, LLC")
    assert (qwest.isp_name, qwest.isp_source, qwest.organization) == ("CenturyLink", "isp_database", "CenturyLink")
    assert (qwest.connection_type, qwest.user_type) == ("Cable/DSL", "residential")
    assert (qwest.country_estimate, qwest.region_estimate, qwest.city_estimate, qwest.accuracy_radius_km) == (
        "US",
        "Texas",
        "Houston",
        500,
    )
    assert set(qwest.answered_by.values()) == {"GeoIP2-Enterprise"}
    cellular = enricher.lookup("1.124.213.1")
    assert (cellular.asn, cellular.connection_type, cellular.user_type, cellular.country_estimate) == (
        44244,
        "Cellular",
        "cellular",
        "IR",
    )
    enricher.close()


def test_each_database_answers_what_it_is_built_for(real_mmdb: Path) -> None:
    """All four: AS from ASN, ISP name and organisation from ISP, connection from Enterprise, location from City
    (Enterprise fills in what the others do not know), each field naming its source."""
    enricher = _real(real_mmdb, ENTERPRISE_DB, CITY_DB, ISP_DB, ASN_DB)  # order given does not matter
    qwest = enricher.lookup("65.116.3.81")
    assert (qwest.asn, qwest.as_org, qwest.isp_name, qwest.organization) == (209, None, "Century Link", "ATMI")
    assert (qwest.connection_type, qwest.city_estimate) == ("Cable/DSL", "Houston")
    assert qwest.answered_by == {
        "asn": "GeoLite2-ASN",
        "isp_name": "GeoIP2-ISP",
        "organization": "GeoIP2-ISP",
        "connection_type": "GeoIP2-Enterprise",
        "user_type": "GeoIP2-Enterprise",
        "location": "GeoIP2-Enterprise",  # GeoIP2-City-Test does not know it
    }
    navy = enricher.lookup("2001:480:10::1")  # only Enterprise knows its network
    assert (navy.asn, navy.isp_name, navy.user_type) == (22, "US Department of Defense", "military")
    assert (navy.city_estimate, navy.accuracy_radius_km, navy.answered_by["location"]) == (
        "San Diego",
        20,
        "GeoIP2-City",
    )
    assert navy.answered_by["isp_name"] == navy.answered_by["asn"] == "GeoIP2-Enterprise"
    enricher.close()


def test_the_units_isp_table_still_answers_first(real_mmdb: Path, tmp_path: Path) -> None:
    table = tmp_path / "isps.csv"
    table.write_text(
        "name,asn,prefix,network_type,cgnat,nodal_officer,nodal_email,postal_address,log_timezone\n"
        "Telstra (nodal desk),1221,,mobile,yes,Officer,nodal@telstra.example.com,Address,Australia/Sydney\n"
    )
    enricher = _real(real_mmdb, ASN_DB, ISP_DB, isp_table=table)
    info = enricher.lookup("1.128.0.1")
    assert (info.isp_name, info.isp_source, info.network_type, info.log_timezone) == (
        "Telstra (nodal desk)",
        "isp_table_asn",
        "mobile_cgnat",
        "Australia/Sydney",
    )
    assert info.organization == "Telstra Internet"  # what the ISP database holds is kept beside it
    assert info.answered_by["isp_name"] == "isp_table" and info.answered_by["asn"] == "GeoLite2-ASN"
    enricher.close()


@pytest.mark.parametrize(
    "name,when",
    [
        ("GeoIP2-City-Test-Invalid-Node-Count.mmdb", "it cannot be opened as one"),
        ("GeoIP2-City-Test-Broken-Double-Format.mmdb", "its first records cannot be decoded"),
    ],
)
def test_corrupt_databases_are_named_when_opened(real_mmdb: Path, name: str, when: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _real(real_mmdb, ASN_DB, name)
    assert str(caught.value).startswith(f"{real_mmdb / name}: not a valid MaxMind DB file, or a corrupt one ({when})")
    assert "\n" not in str(caught.value)


def test_corrupt_record_found_at_look_up_names_the_file(real_mmdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Damage past what the open-time probe reads shows at look-up: the same one-line error, naming the file."""
    from tipfusion.enrich import mmdb

    monkeypatch.setattr(mmdb, "PROBE_RECORDS", 1)
    broken = real_mmdb / "GeoIP2-City-Test-Broken-Double-Format.mmdb"
    enricher = _real(real_mmdb, broken.name)
    with pytest.raises(ConfigurationError) as caught:
        enricher.lookup("2.125.160.216")
    assert str(caught.value).startswith(f"{broken}: not a valid MaxMind DB file, or a corrupt one")
    assert "2.125.160.216" not in str(caught.value)
    enricher.close()


def test_cli_names_a_corrupt_database_without_a_traceback(real_mmdb: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import tipfusion

    broken = real_mmdb / "GeoIP2-City-Test-Broken-Double-Format.mmdb"
    env = {**os.environ, "PYTHONPATH": str(Path(tipfusion.__file__).parents[1])}
    command = [sys.executable, "-m", "tipfusion", "--database", f"sqlite:///{tmp_path / 's.db'}", "enrich"]
    subprocess.run([*command[:-1], "db", "upgrade"], check=True, capture_output=True, env=env, timeout=120)
    result = subprocess.run(
        [*command, "--ip-database", str(real_mmdb / ASN_DB), "--ip-database", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = [x for x in result.stderr.splitlines() if x.strip() and not x.startswith("created a new store")]
    assert line.startswith(f"error: {broken}: not a valid MaxMind DB file, or a corrupt one")


def test_a_database_of_a_type_tipfusion_cannot_use_is_reported(tmp_path: Path) -> None:
    domains = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-Domain", description="domains")
    domains.insert_network(IPSet(["198.18.0.0/16"]), {"domain": "example.com"})
    path = tmp_path / "domain.mmdb"
    domains.to_db_file(str(path))
    enricher = IpEnricher.from_paths([path], None, None)
    assert enricher.problems == [
        f"{path}: database type 'GeoIP2-Domain' holds nothing tipfusion reads "
        "(it reads ASN, ISP, City, Country and Enterprise databases)"
    ]
    assert "GeoIP2-Domain" not in enricher.signature
    enricher.close()


def test_real_databases_through_the_store_and_the_export(
    engine: Engine, db_url: str, real_mmdb: Path, tmp_path: Path
) -> None:
    """A report using MaxMind's test networks, enriched with ASN + ISP + City + Enterprise and exported."""
    from typer.testing import CliRunner

    from tipfusion.cli.main import app

    report = (FIXTURES / "100000042.xml").read_bytes()
    for synthetic, real in [
        (b"203.0.113.45", b"1.128.0.1"),
        (b"2001:db8:85a3::8a2e:370:7334", b"2001:480:10::1"),
        (b"198.51.100.7", b"65.116.3.81"),
        (b"192.0.2.200", b"149.101.100.1"),
    ]:
        report = report.replace(synthetic, real)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_bytes(report)
    _ingest(engine, db_url, batch)
    runner = CliRunner()
    databases = [
        arg for name in (ASN_DB, ISP_DB, CITY_DB, ENTERPRISE_DB) for arg in ("--ip-database", str(real_mmdb / name))
    ]
    result = runner.invoke(app, ["--database", db_url, "enrich", *databases])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        stored = {row.ip: row for row in conn.execute(select(ip_enrichments))}
    assert (stored["1.128.0.1"].isp_name, stored["1.128.0.1"].as_org) == ("Telstra Internet", "Telstra Pty Ltd")
    assert stored["1.128.0.1"].answered_by == {
        "asn": "GeoLite2-ASN",
        "as_org": "GeoLite2-ASN",
        "isp_name": "GeoIP2-ISP",
        "organization": "GeoIP2-ISP",
    }
    out = tmp_path / "ips.json"
    result = runner.invoke(app, ["--database", db_url, "export", "ips", "--format", "json", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["ip"]: r for r in json.loads(out.read_text())}
    fields = ("asn", "as_org", "isp", "isp_source", "organization", "mobile_country_code", "mobile_network_code")
    assert {ip: tuple(rows[ip][f] for f in fields) for ip in rows} == {
        "1.128.0.1": (1221, "Telstra Pty Ltd", "Telstra Internet", "isp_database", "Telstra Internet", None, None),
        "2001:480:10::1": (22, "DNIC-AS-00022", "US Department of Defense", "isp_database", "DNIC", None, None),
        "65.116.3.81": (209, None, "Century Link", "isp_database", "ATMI", None, None),
        "149.101.100.1": (6167, "CELLCO-PART", "Verizon Wireless", "isp_database", "Verizon Wireless", "310", "004"),
    }
    places = {ip: (r["country_estimate"], r["city_estimate"], r["accuracy_radius_km"]) for ip, r in rows.items()}
    assert places == {
        "1.128.0.1": (None, None, None),
        "2001:480:10::1": ("US", "San Diego", 20),
        "65.116.3.81": ("US", "Houston", 500),
        "149.101.100.1": ("US", None, 1000),
    }
    assert (rows["65.116.3.81"]["connection_type"], rows["65.116.3.81"]["user_type"]) == ("Cable/DSL", "residential")
    assert rows["65.116.3.81"]["answered_by"]["location"] == "GeoIP2-Enterprise"
    assert rows["2001:480:10::1"]["answered_by"]["location"] == "GeoIP2-City"
    assert all(
        "GeoIP2-ISP@" in r["enriched_with"] and "GeoIP2-Enterprise@" in r["enriched_with"] for r in rows.values()
    )
    csv_out = tmp_path / "ips.csv"
    runner.invoke(app, ["--database", db_url, "export", "ips", "--format", "csv", "--output", str(csv_out)])
    telstra = next(r for r in csv.DictReader(csv_out.open()) if r["ip"] == "1.128.0.1")
    assert json.loads(telstra["answered_by"])["isp_name"] == "GeoIP2-ISP" and telstra["isp"] == "Telstra Internet"
    again = EnrichService(
        engine, EnrichConfig(tuple(real_mmdb / n for n in (ASN_DB, ISP_DB, CITY_DB, ENTERPRISE_DB))), "tester"
    ).run()
    assert again.ips_looked_up == 0  # same databases: nothing to look up again
