"""The scoped service layer the web pages call: an authorisation matrix (role × object × action), inbox scope, the
force dashboard against the case rows, the work queue's paging and filters, and case steps' field errors — on SQLite
and PostgreSQL.

The store (a synthetic batch through routing, four referrals, some case progress) is built once per database and
module; each test gets its own copy (a SQLite file copy, a PostgreSQL database cloned from a template), so tests that
change cases stay independent.
"""

from __future__ import annotations

import math
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Float, delete, func, literal, make_url, select, text, update

from tests.conftest import _PG_PROBLEM, POSTGRES_URL, REQUIRE_POSTGRES
from tipfusion.accounts.principal import Principal, Role
from tipfusion.config import Settings
from tipfusion.errors import NotFound
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import build_referral, top_subjects
from tipfusion.route.placement import placements
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.priority_counts import score_floor
from tipfusion.store.tables import (
    audit_events,
    case_events,
    cases,
    police_stations,
    priorities,
    priority_counts,
    reports,
    suspects,
)
from tipfusion.synth import generate
from tipfusion.track.operations import create_operation
from tipfusion.track.service import advance, overdue
from tipfusion.triage.service import TriageService, adjust
from tipfusion.workplace import (
    NON_FIELD,
    FieldErrors,
    acknowledge,
    analyst_today,
    case_page,
    correct_case,
    force_dashboard,
    inbox,
    network_page,
    record_arrests,
    referral_page,
    register_fir,
    report_page,
    request_transfer,
    suspect_page,
    transfer_case,
    work_queue,
)
from tipfusion.workplace.queue import BANDS, PriorityBands, queue_depth

OWN_STATION, OTHER_STATION, OTHER_DISTRICT_STATION = "PS Demopur 1", "PS Demopur 2", "PS Mockabad 2"
PRINCIPALS = {
    "admin": Principal("ada", Role.ADMIN),
    "analyst": Principal("ana", Role.ANALYST),
    "supervisor": Principal("sue", Role.SUPERVISOR),
    "district-own": Principal("dee", Role.DISTRICT, district="Demopur"),
    "district-other": Principal("dom", Role.DISTRICT, district="Mockabad"),
    "station-own": Principal("sam", Role.STATION, station=OWN_STATION),
    "station-other": Principal("sid", Role.STATION, station=OTHER_STATION),
    "auditor": Principal("aud", Role.AUDITOR),
}
MAY_VIEW = {"admin", "analyst", "supervisor", "district-own", "station-own"}
MAY_ACT = {"admin", "analyst", "district-own", "station-own"}


@dataclass(frozen=True)
class Built:
    """What the module's store holds, by name, so tests need not look it up again."""

    own: Any  # referral to OWN_STATION (the matrix's object)
    sibling: Any  # to OTHER_STATION, same district: acknowledged, FIR, arrests, devices
    elsewhere: Any  # to OTHER_DISTRICT_STATION: closed untraced
    district_only: Any  # to the district Demopur, no station
    own_report: int  # a report of the own referral's package


@dataclass
class Store:
    engine: Engine
    settings: Settings
    built: Built


def _build(engine: Engine, url: str, workdir: Path) -> Built:
    settings = Settings(database_url=url)
    batch = generate(workdir / "batch", 120, seed=41)
    through_routing(engine, settings, "builder", batch)
    first, second, third, fourth = top_subjects(engine, 4)
    out = workdir / "out"
    own = build_referral(engine, settings, "ana", first, out, to=OWN_STATION)
    sibling = build_referral(engine, settings, "ana", second, out, to=OTHER_STATION)
    elsewhere = build_referral(engine, settings, "ana", third, out, to=OTHER_DISTRICT_STATION)
    district_only = build_referral(engine, settings, "ana", fourth, out, to="Demopur")
    today = datetime.now(UTC).astimezone(settings.profile.zone).date()
    ref = sibling.reference
    advance(engine, settings, "ana", ref, "acknowledged", {})
    fir = {"fir_number": f"0007/{today.year}", "fir_date": today.isoformat(), "sections": "IT Act 67B"}
    advance(engine, settings, "ana", ref, "fir_registered", fir)
    advance(engine, settings, "ana", ref, "arrested", {"count": 1, "date": today.isoformat()})
    advance(engine, settings, "ana", ref, "devices_seized", {"count": 3, "date": today.isoformat()})
    advance(engine, settings, "ana", elsewhere.reference, "closed", {"closed_reason": "untraced"})
    package = own.part(".json").read_text()
    import json

    own_report = int(json.loads(package)["reports"][0]["report_id"])
    return Built(own, sibling, elsewhere, district_only, own_report)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(make a fresh copy → Store, the built names): the store built once per database for the module."""
    workdir = tmp_path_factory.mktemp("workplace")
    if request.param == "sqlite":
        source = workdir / "template.db"
        engine = make_engine(f"sqlite:///{source}")
        upgrade(engine)
        built = _build(engine, f"sqlite:///{source}", workdir)
        engine.dispose()

        def sqlite_copy() -> str:
            target = workdir / f"copy-{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"

        yield sqlite_copy, built
        return
    if _PG_PROBLEM is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required (TIPFUSION_REQUIRE_POSTGRES=1) but unavailable: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unavailable: {_PG_PROBLEM}")
    base = make_url(POSTGRES_URL)
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tf_wp_tpl_{uuid.uuid4().hex[:10]}"
    copies: list[str] = []

    def url_of(database: str) -> str:
        return base.set(database=database).render_as_string(hide_password=False)

    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = make_engine(url_of(name))
    upgrade(engine)
    built = _build(engine, url_of(name), workdir)
    engine.dispose()

    def postgres_copy() -> str:
        copy = f"tf_wp_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {copy} TEMPLATE {name}"))
        copies.append(copy)
        return url_of(copy)

    yield postgres_copy, built
    with admin.connect() as conn:
        for database in [*copies, name]:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def store(template: Any) -> Iterator[Store]:
    """A private copy of the module's store."""
    copy, built = template
    url = copy()
    engine = make_engine(url)
    yield Store(engine, Settings(database_url=url), built)
    engine.dispose()


@pytest.fixture(scope="module")
def shared(template: Any) -> Iterator[Store]:
    """One copy for the whole matrix: its tests touch only the own referral's case, which `matrix_store` restores."""
    copy, built = template
    url = copy()
    engine = make_engine(url)
    yield Store(engine, Settings(database_url=url), built)
    engine.dispose()


@pytest.fixture
def matrix_store(shared: Store) -> Iterator[Store]:
    """The shared copy, with the own case put back as it was after each test (the audit log only grows)."""
    case_id = shared.built.own.case_id
    with shared.engine.connect() as conn:
        saved = dict(conn.execute(select(cases).where(cases.c.id == case_id)).one()._mapping)
        last_event = conn.execute(select(func.max(case_events.c.id))).scalar_one()
    yield shared
    with shared.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == case_id).values(**saved))
        conn.execute(delete(case_events).where(case_events.c.id > last_event))


def denials(engine: Engine, username: str, object_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    audit_events.c.action == "access.denied",
                    audit_events.c.actor == username,
                    audit_events.c.object_id == object_id,
                )
            ).scalar_one()
        )


def _today(store: Store) -> str:
    return datetime.now(UTC).astimezone(store.settings.profile.zone).date().isoformat()


def _object_id(store: Store, kind: str) -> str:
    own = store.built.own
    return {
        "referral": own.reference,
        "case": str(own.case_id),
        "report": str(store.built.own_report),
        "suspect": own.subject_id,
    }[kind]


VIEWS: dict[str, Callable[[Store, Principal, str], Any]] = {
    "referral": lambda s, p, i: referral_page(s.engine, p, i),
    "case": lambda s, p, i: case_page(s.engine, p, i),
    "report": lambda s, p, i: report_page(s.engine, p, i),
    "suspect": lambda s, p, i: suspect_page(s.engine, p, i),
}


def _act(store: Store, principal: Principal, action: str, target: str) -> None:
    engine, settings = store.engine, store.settings
    if action == "acknowledge":
        done = acknowledge(engine, settings, principal, target)
        assert done.state == "acknowledged"
    elif action == "FIR":
        number = f"0099/{_today(store)[:4]}"
        done = register_fir(
            engine, settings, principal, target, fir_number=number, fir_date=_today(store), sections=["IT Act 67B"]
        )
        assert (done.state, done.changes["fir_number"]) == ("fir_registered", number)
    else:
        request_transfer(engine, principal, target, to_station="PS Mockabad 1", reason="the accused lives there")
        page = case_page(engine, PRINCIPALS["analyst"], target)
        assert page.pending_transfer is not None and page.pending_transfer["fields"]["to_station"] == "PS Mockabad 1"


MATRIX = [(role, kind, "view") for role in PRINCIPALS for kind in VIEWS] + [
    (role, kind, action)
    for role in PRINCIPALS
    for kind in ("referral", "case")
    for action in ("acknowledge", "FIR", "transfer")
]


@pytest.mark.parametrize(("role", "kind", "action"), MATRIX)
def test_authorisation_matrix(matrix_store: Store, role: str, kind: str, action: str) -> None:
    store = matrix_store
    principal = PRINCIPALS[role]
    target = _object_id(store, kind)
    if action == "FIR":  # the step after acknowledgement
        advance(store.engine, store.settings, "ana", store.built.own.reference, "acknowledged", {})
    allowed = role in (MAY_VIEW if action == "view" else MAY_ACT)
    before = denials(store.engine, principal.username, target)
    if allowed:
        if action == "view":
            assert VIEWS[kind](store, principal, target)
        else:
            _act(store, principal, action, target)
        assert denials(store.engine, principal.username, target) == before
        return
    with pytest.raises(NotFound) as refused:
        VIEWS[kind](store, principal, target) if action == "view" else _act(store, principal, action, target)
    assert "forbidden" not in str(refused.value).lower()
    assert denials(store.engine, principal.username, target) == before + 1
    with store.engine.connect() as conn:
        state = conn.execute(select(cases.c.state).where(cases.c.id == store.built.own.case_id)).scalar_one()
    assert state == ("acknowledged" if action == "FIR" else "sent")  # nothing changed


def test_a_missing_object_reads_exactly_like_one_out_of_scope(store: Store) -> None:
    station = PRINCIPALS["station-other"]
    with pytest.raises(NotFound) as absent:
        case_page(store.engine, station, "999999")
    with pytest.raises(NotFound) as hidden:
        case_page(store.engine, station, str(store.built.own.case_id))
    assert str(absent.value).replace("999999", "N") == str(hidden.value).replace(str(store.built.own.case_id), "N")
    assert denials(store.engine, station.username, "999999") == 1


def test_inbox_is_scoped_filtered_sorted_and_paged(store: Store) -> None:
    b = store.built
    every = {b.own.reference, b.sibling.reference, b.elsewhere.reference, b.district_only.reference}

    def references(role: str, **kw: Any) -> list[str]:
        return [r.reference for r in inbox(store.engine, store.settings, PRINCIPALS[role], **kw).rows]

    assert references("station-own") == [b.own.reference]
    assert set(references("district-own")) == {b.own.reference, b.sibling.reference, b.district_only.reference}
    assert references("district-other") == [b.elsewhere.reference]
    assert set(references("supervisor")) == every
    assert references("station-own", state="acknowledged") == []
    assert references("analyst", state="closed") == [b.elsewhere.reference]
    assert references("analyst", sort="oldest") == list(reversed(references("analyst", sort="newest")))
    page = inbox(store.engine, store.settings, PRINCIPALS["analyst"], sort="reference", limit=3, offset=0)
    rest = inbox(store.engine, store.settings, PRINCIPALS["analyst"], sort="reference", limit=3, offset=3)
    assert page.total == rest.total == 4 and len(page.rows) == 3 and len(rest.rows) == 1
    assert [r.reference for r in page.rows + rest.rows] == sorted(every)
    with pytest.raises(NotFound):
        inbox(store.engine, store.settings, PRINCIPALS["auditor"])

    row = inbox(store.engine, store.settings, PRINCIPALS["station-own"]).rows[0]
    assert (row.case_state, row.subject_id, row.station, row.overdue) == ("sent", b.own.subject_id, OWN_STATION, False)
    assert row.fir_due - row.acknowledge_due == timedelta(days=7) - timedelta(hours=48)
    week = datetime.now(UTC) + timedelta(days=8)
    late = inbox(store.engine, store.settings, PRINCIPALS["analyst"], overdue_only=True, at=week)
    assert {r.reference for r in late.rows} == {b.own.reference, b.district_only.reference}
    assert late.rows[0].late == ("acknowledgement", "FIR registration")
    station_items = {i.case for i in overdue(store.engine, store.settings, week) if not i.what.startswith("ISP")}
    assert station_items == {r.case_id for r in late.rows}  # the same rule as `tipfusion cases overdue`


def test_force_dashboard_lists_every_station_and_totals_equal_the_case_rows(store: Store) -> None:
    week = datetime.now(UTC) + timedelta(days=8)
    board = force_dashboard(store.engine, store.settings, PRINCIPALS["supervisor"], at=week)
    with store.engine.connect() as conn:
        stations = set(conn.execute(select(police_stations.c.district, police_stations.c.station_id)).all())
        rows = conn.execute(select(cases)).all()
    listed = {(line.district, line.station) for block in board.districts for line in block.stations}
    assert stations <= listed and len(stations) == 30
    assert listed - stations == {("Demopur", None)}  # the case placed with the district, no station yet
    quiet = next(line for block in board.districts for line in block.stations if line.station == "PS Testnagar 5")
    assert quiet.totals.referrals == 0  # zeros are listed
    total = board.total
    assert total.referrals == len(rows) == 4
    assert total.acknowledged == sum(1 for r in rows if r.acknowledged_at is not None) == 1
    assert total.firs == sum(1 for r in rows if r.fir_number) == 1
    assert total.arrests == sum(r.arrests for r in rows) == 1
    assert total.devices == sum(r.devices_seized for r in rows) == 3
    assert total.chargesheets == sum(1 for r in rows if r.chargesheet_date) == 0
    assert total.closed == sum(1 for r in rows if r.state == "closed") == 1
    late = inbox(store.engine, store.settings, PRINCIPALS["analyst"], overdue_only=True, at=week)
    assert total.overdue == late.total == 2
    for block in board.districts:
        assert block.subtotal == sum((line.totals for line in block.stations), type(total)())
    assert sum((b.subtotal for b in board.districts), type(total)()) == total

    mine = force_dashboard(store.engine, store.settings, PRINCIPALS["district-own"])
    assert [b.district for b in mine.districts] == ["Demopur"] and len(mine.districts[0].stations) == 6
    assert mine.total.referrals == 3
    station = force_dashboard(store.engine, store.settings, PRINCIPALS["station-own"])
    assert [(line.station, line.totals.referrals) for b in station.districts for line in b.stations] == [
        (OWN_STATION, 1)
    ]
    with pytest.raises(NotFound):
        force_dashboard(store.engine, store.settings, PRINCIPALS["auditor"])


def test_analyst_today(store: Store) -> None:
    now = datetime.now(UTC)
    create_operation(store.engine, "chief", "OP-TODAY", now - timedelta(days=1), now + timedelta(days=1), None)
    today = analyst_today(store.engine, store.settings, PRINCIPALS["analyst"], days=3)
    with store.engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(reports)).scalar_one()
        people = conn.execute(select(func.count()).select_from(suspects)).scalar_one()
    assert len(today.intake) == 3 and sum(d.reports for d in today.intake) == held == today.intake[-1].reports
    assert sum(today.queue_depth.values()) == people
    assert today.overdue == 0 and [o.name for o in today.operations] == ["OP-TODAY"]
    assert today.operations[0].totals["referrals"] == 4
    with pytest.raises(NotFound):
        analyst_today(store.engine, store.settings, PRINCIPALS["district-own"])


def test_work_queue_pages_sorts_and_filters(store: Store) -> None:
    analyst = PRINCIPALS["analyst"]
    first = work_queue(store.engine, analyst, level="suspect", limit=10)
    second = work_queue(store.engine, analyst, level="suspect", limit=10, offset=10)
    with store.engine.connect() as conn:
        scored = conn.execute(
            select(func.count()).select_from(priorities).where(priorities.c.object_type == "suspect")
        ).scalar_one()
    assert first.total == second.total == scored and len(first.rows) == 10
    assert not {r.object_id for r in first.rows} & {r.object_id for r in second.rows}
    ranked = [(not r.pinned, -r.score) for r in first.rows + second.rows]
    assert ranked == sorted(ranked)
    lowest = work_queue(store.engine, analyst, level="suspect", sort="lowest", limit=5)
    assert [r.score for r in lowest.rows] == sorted(r.score for r in lowest.rows)
    for band in ("high", "medium", "low"):
        page = work_queue(store.engine, analyst, band=band, limit=500)  # type: ignore[arg-type]
        assert all(r.band == band for r in page.rows) and page.total == len(page.rows)
    bands = [work_queue(store.engine, analyst, band=b, limit=0).total for b in ("pinned", "high", "medium", "low")]
    assert sum(bands) == scored  # type: ignore[arg-type]
    unrouted = work_queue(store.engine, analyst, placement="unrouted", limit=500)
    routed = work_queue(store.engine, analyst, placement="routed", limit=500)
    central = work_queue(store.engine, analyst, placement="central", limit=500)
    assert unrouted.total + routed.total + central.total == scored
    assert all(r.routing == "unrouted" for r in unrouted.rows) and all(r.station or r.district for r in routed.rows)
    in_district = work_queue(store.engine, analyst, district="Fictiva", limit=500)
    assert in_district.total and all(r.district == "Fictiva" for r in in_district.rows)
    referred = work_queue(store.engine, analyst, referral_state="open", limit=500)
    b = store.built
    assert {r.object_id for r in referred.rows} == {b.own.subject_id, b.sibling.subject_id, b.district_only.subject_id}
    assert {r.case_state for r in referred.rows} == {"sent", "devices_seized"}
    closed = work_queue(store.engine, analyst, referral_state="closed", limit=5)
    assert [(r.object_id, r.referral) for r in closed.rows] == [(b.elsewhere.subject_id, b.elsewhere.reference)]
    unreferred = work_queue(store.engine, analyst, referral_state="unreferred", limit=0)
    assert unreferred.total == scored - 4
    report_rows = work_queue(store.engine, analyst, level="report", referral_state="open", limit=500)
    assert report_rows.total and all(r.referral for r in report_rows.rows)
    assert work_queue(store.engine, analyst, level="network", placement="routed", limit=1).total >= 0
    with pytest.raises(NotFound):
        work_queue(store.engine, PRINCIPALS["station-own"])


def test_case_steps_report_field_errors(store: Store) -> None:
    engine, settings, station = store.engine, store.settings, PRINCIPALS["station-own"]
    case = store.built.own.reference

    def errors(call: Callable[[], Any]) -> dict[str, str]:
        with pytest.raises(FieldErrors) as refused:
            call()
        return refused.value.errors

    today = _today(store)
    assert NON_FIELD in errors(lambda: record_arrests(engine, settings, station, case, count=1, on=today))
    assert "on" in errors(lambda: acknowledge(engine, settings, station, case, on="2999-01-01"))
    assert "on" in errors(lambda: acknowledge(engine, settings, station, case, on="yesterday-ish"))
    acknowledge(engine, settings, station, case)
    assert "fir_number" in errors(
        lambda: register_fir(engine, settings, station, case, fir_number="A-12", fir_date=today, sections="x")
    )
    assert errors(
        lambda: register_fir(engine, settings, station, case, fir_number=f"1/{today[:4]}", fir_date=today, sections=[])
    ) == {"sections": "required"}
    register_fir(engine, settings, station, case, fir_number=f"12/{today[:4]}", fir_date=today, sections="IT Act 67B")
    assert "names" in errors(lambda: record_arrests(engine, settings, station, case, count=2, on=today, names=["A"]))
    assert "reason" in errors(
        lambda: correct_case(engine, settings, station, case, field_name="fir_number", value="13/2026", reason=" ")
    )
    assert "field_name" in errors(
        lambda: correct_case(engine, settings, station, case, field_name="state", value="closed", reason="why not")
    )
    assert "value" in errors(
        lambda: correct_case(engine, settings, station, case, field_name="arrests", value="many", reason="typo")
    )
    assert "to_station" in errors(
        lambda: request_transfer(engine, station, case, to_station="PS Nowhere", reason="moved")
    )
    assert "to_station" in errors(lambda: request_transfer(engine, station, case, to_station=OWN_STATION, reason="x"))
    assert "reason" in errors(lambda: request_transfer(engine, station, case, to_station="PS Mockabad 1", reason=""))
    with engine.connect() as conn:
        actors = set(conn.execute(select(audit_events.c.actor).where(audit_events.c.action.like("case.%"))).scalars())
    assert "sam" in actors  # the audit actor is the principal's username


def test_a_transfer_request_carried_out_moves_the_need_to_know(store: Store) -> None:
    engine, b = store.engine, store.built
    own, analyst, district = PRINCIPALS["station-own"], PRINCIPALS["analyst"], PRINCIPALS["district-own"]
    request_transfer(engine, own, b.own.reference, to_station="PS Mockabad 1", reason="the accused moved")
    assert case_page(engine, own, b.own.reference).pending_transfer is not None
    with pytest.raises(NotFound):
        transfer_case(engine, district, b.own.reference, to_station="PS Mockabad 1", reason="ok")
    assert transfer_case(engine, analyst, b.own.reference, to_station="PS Mockabad 1", reason="agreed") == (
        OWN_STATION,
        "PS Mockabad 1",
    )
    page = case_page(engine, analyst, b.own.reference)
    assert page.pending_transfer is None and page.case["station"] == "PS Mockabad 1"
    with pytest.raises(NotFound):
        referral_page(engine, own, b.own.reference)
    with pytest.raises(NotFound):
        suspect_page(engine, own, b.own.subject_id)
    receiving = Principal("mo", Role.STATION, station="PS Mockabad 1")
    assert referral_page(engine, receiving, b.own.reference).may_act
    assert suspect_page(engine, receiving, b.own.subject_id)["suspect_id"] == b.own.subject_id
    assert report_page(engine, receiving, b.own_report)["report_id"] == b.own_report


def test_pages_keep_other_stations_cases_and_networks_out(store: Store) -> None:
    engine, b = store.engine, store.built
    profile = suspect_page(engine, PRINCIPALS["station-own"], b.own.subject_id)
    assert [c["reference"] for c in profile["cases"]] == [b.own.reference]
    supervisor_view = referral_page(engine, PRINCIPALS["supervisor"], b.own.reference)
    assert not supervisor_view.may_act and supervisor_view.case_station == OWN_STATION
    with engine.connect() as conn:
        network = conn.execute(
            select(suspects.c.network_id).where(suspects.c.network_id.is_not(None)).limit(1)
        ).scalar_one()
    assert network_page(engine, PRINCIPALS["analyst"], network).members
    with pytest.raises(NotFound):
        network_page(engine, PRINCIPALS["station-own"], network)
    with pytest.raises(NotFound):
        report_page(engine, PRINCIPALS["station-own"], "not-a-number")


def _direct(engine: Engine, level: str, band: str | None, bands: PriorityBands = BANDS) -> int:
    """The level's priorities (in a band) counted one by one from the table, the band decided in Python."""
    with engine.connect() as conn:
        held = conn.execute(
            select(priorities.c.score, priorities.c.pinned).where(priorities.c.object_type == level)
        ).all()
    return sum(1 for score, pinned in held if band is None or bands.band(float(score), bool(pinned)) == band)


def _all_totals_match(engine: Engine, viewer: Principal, bands: PriorityBands = BANDS) -> dict[tuple[str, Any], int]:
    """Every level × band total of the queue equals a direct count; each band's rows are the ones it counts."""
    totals: dict[tuple[str, Any], int] = {}
    for level in ("report", "suspect", "network"):
        for band in (None, "pinned", "high", "medium", "low"):
            page = work_queue(engine, viewer, level=level, band=band, limit=10**6, bands=bands)  # type: ignore[arg-type]
            assert page.exact and page.total == len(page.rows) == _direct(engine, level, band, bands), (level, band)
            totals[(level, band)] = page.total
        assert sum(totals[(level, b)] for b in ("pinned", "high", "medium", "low")) == totals[(level, None)]
    return totals


def test_queue_totals_are_kept_by_triage_and_match_a_direct_count(store: Store, tmp_path: Path) -> None:
    """The totals come from `priority_counts` (triage rewrites them), so they must follow every rewrite: a first
    triage, a re-triage after a pin and a lowering (items change band, one goes below zero), a new batch."""
    engine, analyst = store.engine, PRINCIPALS["analyst"]
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(priority_counts)).scalar_one()
    assert kept  # the built store's triage wrote them
    before = _all_totals_match(engine, analyst)
    assert _all_totals_match(engine, PRINCIPALS["supervisor"]) == _all_totals_match(engine, PRINCIPALS["admin"])
    lowest = work_queue(engine, analyst, level="suspect", sort="lowest", limit=1).rows[0]
    highest = work_queue(engine, analyst, level="suspect", limit=1).rows[0]
    top_report = work_queue(engine, analyst, level="report", limit=1).rows[0]
    adjust(engine, "ana", "suspect", lowest.object_id, "pin", "queue count test: pin the lowest")
    adjust(engine, "ana", "suspect", highest.object_id, "lower", "queue count test", points=highest.score + 7.5)
    adjust(engine, "ana", "report", top_report.object_id, "lower", "queue count test", points=top_report.score - 29.5)
    TriageService(engine, "ana").run()
    after = _all_totals_match(engine, analyst)
    assert after[("suspect", "pinned")] == before[("suspect", "pinned")] + 1
    assert after[("suspect", None)] == before[("suspect", None)]
    moved = work_queue(engine, analyst, level="suspect", sort="lowest", limit=1).rows[0]
    assert moved.object_id == highest.object_id and moved.score < 0  # floor of a negative score counted right
    batch = generate(tmp_path / "more", 30, seed=77)
    through_routing(engine, store.settings, "builder", batch)
    grown = _all_totals_match(engine, analyst)
    assert grown[("report", None)] == before[("report", None)] + 30
    _all_totals_match(engine, analyst, PriorityBands(high=60.5, medium=29.75))  # fractional: counted directly
    with engine.connect() as conn:
        depth = queue_depth(conn, "suspect")
    assert depth == {b: grown[("suspect", b)] for b in ("pinned", "high", "medium", "low")}
    for name in ("district-own", "district-other", "station-own", "auditor"):
        with pytest.raises(NotFound):  # no total, nor any row, outside the central roles
            work_queue(engine, PRINCIPALS[name], limit=0)


def test_filtered_queue_totals_are_exact_up_to_the_cap_and_say_more_beyond(store: Store) -> None:
    engine, analyst = store.engine, PRINCIPALS["analyst"]
    filters: list[dict[str, Any]] = [
        {"placement": "unrouted"},
        {"placement": "routed"},
        {"district": "Fictiva"},
        {"referral_state": "unreferred"},
        {"referral_state": "open", "band": "high"},
        {"level": "report", "referral_state": "open"},
        {"level": "network", "placement": "routed"},
    ]
    for wanted in filters:
        every = work_queue(engine, analyst, limit=10**6, **wanted)
        assert every.exact and every.total == len(every.rows) and not every.more, wanted
        for cap in (1, 3, 1000):
            first = work_queue(engine, analyst, limit=2, count_cap=cap, **wanted)
            assert first.rows == every.rows[:2]
            if every.total <= max(cap, 2):
                assert first.exact and first.total == every.total, (wanted, cap)
            else:  # a lower bound, said as one: "more than" the rows counted
                assert not first.exact and first.total == max(cap, 2) < every.total and first.more, (wanted, cap)
        if every.total > 4:  # a page past the cap counts as far as it reaches
            far = work_queue(engine, analyst, limit=2, offset=every.total - 2, count_cap=1, **wanted)
            assert far.exact and far.total == every.total and not far.more, wanted


@pytest.mark.parametrize("value", [-7.5, -7.0, -0.25, 0.0, 0.75, 29.999, 30.0, 59.99, 60.0, 60.5, 123.4])
def test_score_floor_is_floor_on_both_databases(store: Store, value: float) -> None:
    with store.engine.connect() as conn:
        found = conn.execute(select(score_floor(conn.dialect.name, literal(value, Float)))).scalar_one()
    assert found == math.floor(value)


def test_upgrading_to_0019_counts_the_priorities_a_store_holds(store: Store) -> None:
    from tests.test_migrations import _downgrade

    def held() -> list[tuple[Any, ...]]:
        with store.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(select(priority_counts)))

    written_by_triage = held()
    _downgrade(store.engine, "0018")
    upgrade(store.engine)
    assert held() == written_by_triage and sum(r[-1] for r in written_by_triage) == _direct(
        store.engine, "report", None
    ) + _direct(store.engine, "suspect", None) + _direct(store.engine, "network", None)


def test_queue_routing_words_are_the_placements_words(store: Store) -> None:
    """Reports and suspects take their routing from the decision joined to the page's rows, networks from their
    members: either way the words `route.placement.placements` gives (`tipfusion queue show`)."""
    for level in ("report", "suspect", "network"):
        for placement in (None, "unrouted", "central", "routed"):
            page = work_queue(store.engine, PRINCIPALS["analyst"], level=level, placement=placement, limit=10**6)  # type: ignore[arg-type]
            with store.engine.connect() as conn:
                words = placements(conn, level, [r.object_id for r in page.rows])
            assert [r.routing for r in page.rows] == [words[r.object_id] for r in page.rows], (level, placement)
            if placement == "unrouted":
                assert all(r.routing == "unrouted" for r in page.rows)
            elif placement == "central":
                assert all(r.routing.startswith("central") for r in page.rows), level
            elif placement == "routed" and level != "network":
                assert page.rows and all(r.routing.startswith(("station ", "district ")) for r in page.rows), level


def test_only_triage_writes_priorities_so_the_kept_counts_follow_them() -> None:
    """`priority_counts` is right only while every write of `priorities` refreshes it in the same transaction:
    triage is that one writer. A new writer elsewhere must call `store.priority_counts.refresh` too (and be added
    here), or the queue's totals would drift from its rows."""
    source = Path(__file__).resolve().parents[1] / "src" / "tipfusion"
    writes = re.compile(
        r"(insert|update|delete)\(\s*priorities\b"
        r"|insert_rows\(\s*\w+,\s*priorities\b"
        r"|\bpriorities\.(insert|update|delete)\("
        r"|(INSERT INTO|UPDATE|DELETE FROM)\s+priorities\b",
        re.IGNORECASE,
    )
    writers = sorted(
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "migrations" not in path.parts and writes.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["triage/service.py"]
    triage = (source / "triage" / "service.py").read_text(encoding="utf-8")
    assert "priority_counts.refresh(conn)" in triage
