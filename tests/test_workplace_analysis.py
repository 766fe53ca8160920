"""The analyst's scoped tools — search by any identifier, a network as a graph, linking overrides — on SQLite and
PostgreSQL: central roles see everything, officers are refused as not found (audited), overrides check their fields.

One synthetic store per database for the module (the overrides it records change no link until the next run).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text

from tests.conftest import _PG_PROBLEM, POSTGRES_URL, REQUIRE_POSTGRES
from tipfusion.accounts.principal import Principal, Role
from tipfusion.config import Settings
from tipfusion.errors import NotFound
from tipfusion.pipeline import through_routing
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import audit_events, identifier_observations, link_overrides, networks, report_links
from tipfusion.synth import generate
from tipfusion.workplace import (
    FieldErrors,
    build_referral_for,
    find,
    ip_timeline,
    network_graph,
    override_link,
    referral_folder,
    report_page,
)

ANALYST = Principal("ana", Role.ANALYST)
SUPERVISOR = Principal("sue", Role.SUPERVISOR)
STATION = Principal("sam", Role.STATION, station="PS Demopur 1")
DISTRICT = Principal("dee", Role.DISTRICT, district="Demopur")
REGION = "IN"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    workdir = tmp_path_factory.mktemp("analysis")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'store.db'}"
    else:
        if _PG_PROBLEM is not None:
            if REQUIRE_POSTGRES:
                pytest.fail(f"PostgreSQL required but unavailable: {_PG_PROBLEM}")
            pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
        schema = f"tf_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    through_routing(engine, Settings(database_url=url), "builder", generate(workdir / "batch", 120, seed=41))
    yield engine
    engine.dispose()
    if schema is not None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _a_phone(engine: Engine) -> tuple[str, int]:
    """An Indian mobile number some report holds (E.164 as stored) and that report."""
    o = identifier_observations
    with engine.connect() as conn:
        row = conn.execute(
            select(o.c.canonical, o.c.report_id)
            .where(o.c.kind == "phone", o.c.is_current.is_(True), o.c.canonical.like("+91%"))
            .order_by(o.c.report_id)
            .limit(1)
        ).one()
    return str(row.canonical), int(row.report_id)


def _denials(engine: Engine, username: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(audit_events)
                .where(audit_events.c.actor == username, audit_events.c.action == "access.denied")
            ).scalar_one()
        )


def _largest_network(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(networks.c.network_id).order_by(networks.c.suspects.desc(), networks.c.network_id).limit(1)
            ).scalar_one()
        )


def test_search_reads_a_phone_written_another_way(store: Engine) -> None:
    phone, report = _a_phone(store)
    digits = phone.removeprefix("+91")
    typed = f"+91 {digits[:5]}-{digits[5:]}"
    result = find(store, ANALYST, typed, REGION)
    assert report in {r["report_id"] for r in result.reports}
    assert any(r.kind == "phone" and r.canonical == phone for r in result.readings)
    assert find(store, SUPERVISOR, f"0{digits}", REGION).reports == result.reports


def test_search_by_report_number(store: Engine) -> None:
    _, report = _a_phone(store)
    result = find(store, ANALYST, str(report), REGION)
    assert any(r["report_id"] == report and r["itself"] for r in result.reports)


def test_search_blank_is_a_field_error(store: Engine) -> None:
    with pytest.raises(FieldErrors) as raised:
        find(store, ANALYST, "   ", REGION)
    assert "q" in raised.value.errors
    with pytest.raises(FieldErrors) as raised:
        find(store, ANALYST, "x", REGION, kind="shoe size")
    assert "kind" in raised.value.errors


@pytest.mark.parametrize("officer", [STATION, DISTRICT, Principal("aud", Role.AUDITOR)], ids=lambda p: p.username)
def test_officers_do_not_search_the_store(store: Engine, officer: Principal) -> None:
    phone, _ = _a_phone(store)
    before = _denials(store, officer.username)
    with pytest.raises(NotFound):
        find(store, officer, phone, REGION)
    with pytest.raises(NotFound):
        network_graph(store, officer, _largest_network(store))
    assert _denials(store, officer.username) == before + 2


def test_network_graph_edges_explain_themselves(store: Engine) -> None:
    network = _largest_network(store)
    graph = network_graph(store, ANALYST, network)
    assert graph.network_id == network
    ids = {n.id for n in graph.nodes}
    assert len(ids) == len(graph.nodes)
    kinds = {n.kind for n in graph.nodes}
    assert {"suspect", "report"} <= kinds
    with store.connect() as conn:
        members = set(
            conn.execute(select(report_links.c.suspect_id).where(report_links.c.network_id == network)).scalars()
        )
    assert members <= {n.id for n in graph.nodes if n.kind == "suspect"}
    for edge in graph.edges:
        assert edge.source in ids and edge.target in ids
        assert edge.explains.strip()
    links = [e for e in graph.edges if e.kind == "link"]
    if len(members) > 1:
        assert links and all(e.score is not None and "linked" in e.explains for e in links)
    elements = graph.as_dict()["elements"]
    assert len(elements["nodes"]) == len(graph.nodes) and len(elements["edges"]) == len(graph.edges)


def test_network_graph_unknown_is_not_found(store: Engine) -> None:
    with pytest.raises(NotFound):
        network_graph(store, ANALYST, "N1")


def test_overrides_record_with_the_principal(store: Engine) -> None:
    phone, report = _a_phone(store)
    digits = phone.removeprefix("+91")
    split = override_link(store, ANALYST, "split", "two people share the account", REGION, report_a=str(report))
    noise = override_link(
        store, ANALYST, "noise", "the ESP's support line", REGION, kind="phone", value=f"+91 {digits[:5]}-{digits[5:]}"
    )
    with store.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(link_overrides).where(link_overrides.c.id.in_([split, noise])))}
    assert rows[split].action == "split" and rows[split].report_a == report and rows[split].actor == "ana"
    assert rows[noise].value == phone and rows[noise].kind == "phone"


def test_override_field_errors(store: Engine) -> None:
    _, report = _a_phone(store)
    with pytest.raises(FieldErrors) as raised:
        override_link(store, ANALYST, "merge", " ", REGION, report_a=report, report_b=str(report))
    assert set(raised.value.errors) == {"reason", "report_b"}
    with pytest.raises(FieldErrors) as raised:
        override_link(store, ANALYST, "split", "why", REGION, report_a="12x")
    assert set(raised.value.errors) == {"report_a"}
    with pytest.raises(FieldErrors) as raised:
        override_link(store, ANALYST, "noise", "why", REGION, kind="phone", value="not a phone")
    assert set(raised.value.errors) == {"value"}
    with pytest.raises(FieldErrors) as raised:
        override_link(store, ANALYST, "explode", "why", REGION)
    assert set(raised.value.errors) == {"action"}


def test_supervisors_do_not_override(store: Engine) -> None:
    _, report = _a_phone(store)
    before = _denials(store, SUPERVISOR.username)
    with pytest.raises(NotFound):
        override_link(store, SUPERVISOR, "split", "why", REGION, report_a=report)
    assert _denials(store, SUPERVISOR.username) == before + 1


def test_referral_built_by_the_principal(store: Engine, tmp_path_factory: pytest.TempPathFactory) -> None:
    url = store.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url)
    network = _largest_network(store)
    out = tmp_path_factory.mktemp("refer")
    with pytest.raises(FieldErrors) as raised:
        build_referral_for(store, settings, ANALYST, network, out, to="PS Nowhere 9")
    assert set(raised.value.errors) == {"to"}
    with pytest.raises(FieldErrors) as raised:
        build_referral_for(store, settings, ANALYST, "S1", out)
    assert set(raised.value.errors) == {"target"}
    with pytest.raises(NotFound):
        build_referral_for(store, settings, SUPERVISOR, network, out)
    built = build_referral_for(store, settings, ANALYST, network, out, to="PS Demopur 1")
    reference, folder = referral_folder(store, ANALYST, str(built.referral_id))
    assert reference == built.reference and folder == built.folder and (folder / "manifest-sha256.txt").exists()
    assert referral_folder(store, STATION, built.reference)[1] == folder  # addressed to that station
    with pytest.raises(NotFound):
        referral_folder(store, Principal("sid", Role.STATION, station="PS Demopur 2"), built.reference)


def test_ip_timeline_in_time_order(store: Engine) -> None:
    _, report = _a_phone(store)
    detail = report_page(store, ANALYST, report)
    timeline = ip_timeline(detail["versions"][0])
    assert all(t["kind"] == "ip" for t in timeline)
    dated = [t["observed_at"] for t in timeline if t["observed_at"]]
    assert dated == sorted(dated)
