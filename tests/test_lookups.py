"""Analyst look-ups through the command line, on SQLite and PostgreSQL: `search` (any written form of an identifier,
whose value it is in each report), `suspect show`, `network show` members, `status` per stage, `queue show` routing
and `refer build --top` by routing placement. A synthetic store is taken through routing; a real sample checks the
forms other clients write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from typer.testing import CliRunner

from tests.conftest import StoreTemplates
from tests.web_support import DEMO_PASSWORD, cli_login
from tipfusion.accounts.principal import Role
from tipfusion.accounts.service import create_user
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.pipeline import through_routing
from tipfusion.refer.service import top_subjects
from tipfusion.route.placement import placement_of
from tipfusion.store.tables import (
    audit_events,
    identifier_observations,
    isp_answers,
    link_aliases,
    report_links,
    reports,
    routing_decisions,
    suspects,
)
from tipfusion.synth import generate

runner = CliRunner()
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples"
o = identifier_observations


def _routed(engine: Engine, db_url: str, folder: Path) -> None:
    through_routing(engine, Settings(database_url=db_url), "tester", generate(folder / "batch", 160, seed=41))
    create_user(engine, "builder", "analyst7", DEMO_PASSWORD, Role.ADMIN)


@pytest.fixture
def routed(db_url: str, store_templates: StoreTemplates) -> Iterator[tuple[str, Engine]]:
    """The test's own copy of a store taken through routing (built once per worker and database), the command line
    logged in as its account `analyst7`: (URL, engine)."""
    engine, _ = store_templates.prepare(db_url, "lookups-routed", _routed)
    cli_login(db_url, "analyst7")
    yield db_url, engine
    engine.dispose()


def cli(db_url: str, *args: str) -> str:
    result = runner.invoke(app, ["--database", db_url, *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def found(db_url: str, value: str, *extra: str) -> dict[str, Any]:
    output = cli(db_url, "search", value, "--format", "json", *extra)
    return json.loads(output[output.index("{") :])  # type: ignore[no-any-return]


def holders(engine: Engine, kind: str, canonical: str) -> set[int]:
    with engine.connect() as conn:
        query = select(o.c.report_id).where(o.c.kind == kind, o.c.canonical == canonical, o.c.is_current.is_(True))
        return {int(r) for r in conn.execute(query).scalars()}


def test_search_reads_every_written_form_and_says_whose_value_it_is(routed: tuple[str, Engine]) -> None:
    store, engine = routed
    with engine.connect() as conn:
        phone = (
            conn.execute(
                select(o.c.canonical).where(o.c.kind == "phone", o.c.role == "reported", o.c.canonical.like("+91%"))
            )
            .scalars()
            .first()
        )
        shared = (
            conn.execute(  # an ESP account one suspect reports messaging, another is reported as
                select(o.c.canonical)
                .where(o.c.kind == "esp_user", o.c.role == "recipient")
                .where(o.c.canonical.in_(select(o.c.canonical).where(o.c.kind == "esp_user", o.c.role == "reported")))
            )
            .scalars()
            .first()
        )
        email = (
            conn.execute(select(o.c.canonical).where(o.c.kind == "email", o.c.canonical.like("%@mail.example.com")))
            .scalars()
            .first()
        )
    assert phone and shared and email
    national = phone.removeprefix("+91")
    for form in (f"+91 {national[:5]} {national[5:]}", f"0{national}", f"{national[:5]}-{national[5:]}"):
        result = found(store, form)
        assert ("phone", phone) in {(r["kind"], r["canonical"]) for r in result["readings"]}, form
        assert {r["report_id"] for r in result["reports"]} == holders(engine, "phone", phone), form
        assert all(s["kind"] == "phone" and s["role"] == "reported" and s["suspects_own"] for s in result["sightings"])

    local, _, domain = email.partition("@")
    variant = f"{local[0].upper()}.{local[1:]}@{domain.upper()}"  # dots and case: one mailbox at a Gmail-like host
    assert {r["report_id"] for r in found(store, variant)["reports"]} == holders(engine, "email", email)

    scope, _, bare = shared.partition("/")
    result = found(store, bare)  # typed without the ESP: tried under every ESP the store holds
    roles = {s["suspect_id"]: s for s in result["suspects"]}
    assert any(s["suspects_own"] for s in roles.values()), "the account's owner is listed as its own"
    assert any(not s["suspects_own"] and "intended recipient" in s["whose"] for s in roles.values())
    text = cli(store, "search", f"{scope}/{bare}")
    assert "intended recipient" in text and "not the suspect's" in text and "reported person" in text
    assert result["networks"], "a ring's members message each other: their network is listed"

    with engine.connect() as conn:
        audited = conn.execute(select(audit_events).where(audit_events.c.action == "view.search")).all()
    assert audited and all(row.actor == "analyst7" for row in audited)
    assert {row.object_id for row in audited} >= {variant, bare}

    assert "not found" in cli(store, "search", "nobody.here@example.org")


def test_search_finds_victims_reports_leads_and_isp_answers(routed: tuple[str, Engine]) -> None:
    store, engine = routed
    with engine.connect() as conn:
        victim_id = str(
            conn.execute(select(o.c.canonical).where(o.c.kind == "esp_user", o.c.role == "victim")).scalars().first()
        )
        report = conn.execute(select(report_links.c.report_id, report_links.c.suspect_id)).first()
        phone = conn.execute(select(o.c.canonical, o.c.report_id).where(o.c.kind == "phone")).first()
    assert report is not None and phone is not None
    result = found(store, victim_id, "--kind", "esp_user")
    assert "victim" in {s["role"] for s in result["sightings"]}  # a child is often the intended recipient too
    assert all(s["role"] in {"victim", "recipient"} and not s["suspects_own"] for s in result["sightings"])
    assert all("victim" in s["whose"] for s in result["suspects"])
    assert "victim (not the suspect's)" in cli(store, "search", victim_id)

    itself = found(store, str(report.report_id), "--kind", "report")["reports"]
    assert itself == [
        {
            "report_id": report.report_id,
            "suspect_id": report.suspect_id,
            "network_id": itself[0]["network_id"],
            "itself": True,
            "roles": [],
            "kinds": [],
            "sightings": 0,
        }
    ]

    leads = found(store, _a_lead_value(engine))["leads"]
    assert leads and leads[0]["lead_ref"] and leads[0]["agency"]

    with engine.begin() as conn:
        conn.execute(
            insert(isp_answers).values(
                request_id=0,
                item=1,
                report_id=phone.report_id,
                ip="198.51.100.7",
                observed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                subscriber_name="Example Subscriber",
                phone=phone.canonical,
                source_sha256="0" * 64,
                line=2,
                received_at=datetime(2026, 1, 3, tzinfo=UTC),
            )
        )
    answers = found(store, phone.canonical)["answers"]
    assert [(a["report_id"], a["matched"]) for a in answers] == [(phone.report_id, ["phone"])]
    assert "Example Subscriber" in cli(store, "search", phone.canonical)


def _a_lead_value(engine: Engine) -> str:
    from tipfusion.store.tables import lead_identifiers

    with engine.connect() as conn:
        return str(conn.execute(select(lead_identifiers.c.value)).scalars().first())


def test_suspect_show_network_members_status_and_queue(routed: tuple[str, Engine]) -> None:
    store, engine = routed
    with engine.connect() as conn:
        networked = conn.execute(
            select(suspects.c.suspect_id, suspects.c.network_id)
            .where(suspects.c.network_id.is_not(None))
            .order_by(suspects.c.reports.desc(), suspects.c.suspect_id)
        ).first()
        decisions = conn.execute(select(routing_decisions)).all()
        members = dict(
            conn.execute(
                select(suspects.c.suspect_id, suspects.c.reports).where(suspects.c.network_id == networked.network_id)
            ).all()
        )
    assert networked is not None
    profile = json.loads(cli(store, "suspect", "show", networked.suspect_id, "--format", "json"))
    assert profile["network"]["network_id"] == networked.network_id and profile["reports"]
    assert profile["as_reported"] and all(f["role"] in {"reported", "associated"} for f in profile["as_reported"])
    assert all(set(i["roles"]) <= {"reported", "associated"} for i in profile["identifiers"])
    assert all(p["role"] not in {"reported", "associated"} for p in profile["other_people"] + profile["other_values"])
    decision = next(d for d in decisions if d.suspect_id == networked.suspect_id)
    assert profile["routing"]["basis"] == decision.basis
    assert profile["routing"]["placement"] == placement_of(
        decision.station, decision.district, decision.network_central
    )

    with engine.begin() as conn:  # a name that disappeared in a merge still opens its successor
        conn.execute(
            insert(link_aliases).values(old_id="S000000001", new_id=networked.suspect_id, reason="merged", run_id=1)
        )
    text = cli(store, "suspect", "show", "S000000001")
    assert f"S000000001 is now part of {networked.suspect_id}" in text and "routing:" in text
    assert "The suspect, as reported" in text
    missing = runner.invoke(app, ["--database", store, "suspect", "show", "S999999999"])
    assert missing.exit_code != 0 and "no suspect" in str(missing.exception)

    shown = cli(store, "network", "show", networked.network_id)
    assert "Members" in shown
    for suspect, count in members.items():
        assert any(suspect in line and f" {count} " in line for line in shown.splitlines()), suspect

    status = cli(store, "status")
    placed = {"station": 0, "district": 0, "central": 0}
    for d in decisions:
        placed[placement_of(d.station, d.district, d.network_central)] += 1
    for label, key in (("suspects routed to station", "station"), ("suspects routed to district", "district")):
        assert any(label in line and f" {placed[key]} " in line for line in status.splitlines()), label
    assert any("central queue" in line and f" {placed['central']} " in line for line in status.splitlines())
    for stage in ("ingest", "link", "triage", "route", "requests", "refer", "cases"):
        assert stage in status
    assert "ISP requests open" in status and "overdue" in status and "cases fir registered" in status

    queue = cli(store, "queue", "show", "--limit", "40")
    assert "routing" in queue and "station " in queue and "central" in queue


def test_refer_top_takes_station_and_district_placements(routed: tuple[str, Engine], tmp_path: Path) -> None:
    store, engine = routed
    with engine.connect() as conn:
        place = {
            d.suspect_id: placement_of(d.station, d.district, d.network_central)
            for d in conn.execute(select(routing_decisions))
        }
    routed = top_subjects(engine, 60, include_central=False)
    everyone = top_subjects(engine, 60)
    assert routed and {place[s] for s in routed} <= {"station", "district"}
    assert "district" in {place[s] for s in routed}
    assert any(place.get(s, "central") == "central" for s in everyone)
    assert [s for s in everyone if place.get(s) in {"station", "district"}][: len(routed)] == routed

    built = cli(store, "refer", "build", "--top", "1", "-o", str(tmp_path / "out"))
    assert routed[0] in built
    with engine.connect() as conn:
        from tipfusion.store.tables import referrals

        assert conn.execute(select(func.count()).select_from(referrals)).scalar_one() == 1


def test_search_a_real_sample_in_the_forms_analysts_type(engine: Engine, db_url: str) -> None:
    folder = REAL / "xml" / "nachtalb"
    if not folder.is_dir():
        pytest.skip(f"the shared real samples are not here: {folder} (they live beside the repository, read-only)")
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([folder])
    cases = {
        "quietfox1987@GMAIL.com": ("email", {"reported"}),  # sent as Quiet.Fox.1987+tag@gmail.com
        "+44 7700 900123": ("phone", {"reported"}),
        "@QuietFox87": ("screen_name", {"reported"}),
        "IMEI 490154203237518": ("device", {"reported"}),
        "MD5:214F03192322F8B05AADF3414B1E186E": ("file_hash", {"reported"}),
        "u-00c4d1e9": ("esp_user", {"recipient", "victim"}),
        "098765 43210": ("phone", {"incident"}),  # the cell-phone incident's number, nobody's in particular
        "::ffff:216.160.83.56": ("ip", {"reported"}),
        "100000001": ("prior_report", {"reported"}),
    }
    for typed, (kind, roles) in cases.items():
        result = found(db_url, typed)
        sightings = [s for s in result["sightings"] if s["kind"] == kind]
        assert sightings and {s["report_id"] for s in sightings} == {4242001}, typed
        assert {s["role"] for s in sightings} == roles, typed
    assert found(db_url, "4242001")["reports"][0]["itself"] is True


def test_the_esps_a_store_holds_are_read_by_index_seeks(routed: tuple[str, Engine]) -> None:
    """The loose index scan gives exactly the distinct ESP scopes (a DISTINCT over every version would too, at the
    cost of reading the whole table on every search)."""
    _, engine = routed
    from tipfusion.store.lookups import esp_scopes
    from tipfusion.store.tables import report_versions

    with engine.connect() as conn:
        plain = sorted(s for s in conn.execute(select(report_versions.c.esp_scope).distinct()).scalars() if s)
        assert esp_scopes(conn) == plain and len(plain) > 1


def test_a_search_groups_every_sighting_and_stops_at_its_limit_in_report_order(routed: tuple[str, Engine]) -> None:
    """Each reading is grouped and limited inside the database (issue 15: a common value must not cost every one of
    its sightings): the groups equal a plain grouping of the value's current rows, and a limited search returns the
    first groups in (report, kind, role) order and says it was cut."""
    _, engine = routed
    from tipfusion.search.lookup import search

    with engine.connect() as conn:
        common = conn.execute(
            select(o.c.kind, o.c.canonical, o.c.value)
            .where(o.c.is_current.is_(True), o.c.kind.in_(["ip", "esp_user", "phone"]))
            .group_by(o.c.kind, o.c.canonical, o.c.value)
            .order_by(func.count(func.distinct(o.c.report_id)).desc(), o.c.canonical)
            .limit(1)
        ).one()
        rows = conn.execute(
            select(
                o.c.report_id, o.c.kind, o.c.canonical, o.c.role, o.c.value, o.c.observed_at, report_links.c.suspect_id
            )
            .select_from(o.outerjoin(report_links, report_links.c.report_id == o.c.report_id))
            .where(o.c.is_current.is_(True), o.c.kind == common.kind, o.c.canonical == common.canonical)
        ).all()
        expected: dict[tuple[int, str, str, str], list[Any]] = {}
        for r in rows:
            expected.setdefault((int(r.report_id), r.kind, r.canonical, r.role), []).append(r)
        full = search(conn, common.value, common.kind, "IN")
        assert not full.truncated and len({key[0] for key in expected}) >= 3, "a value held by several reports"
        assert [(s["report_id"], s["kind"], s["canonical"], s["role"]) for s in full.sightings] == sorted(expected)
        for s in full.sightings:
            group = expected[(s["report_id"], s["kind"], s["canonical"], s["role"])]
            assert s["sightings"] == len(group) and s["suspect_id"] == group[0].suspect_id
            assert s["value"] == min(r.value for r in group)
            seen = sorted(r.observed_at for r in group if r.observed_at)
            assert s["first_seen_utc"] == (seen[0].isoformat() if seen else None)
            assert s["last_seen_utc"] == (seen[-1].isoformat() if seen else None)
        for limit in (1, 2, len(full.sightings) - 1, len(full.sightings)):
            cut = search(conn, common.value, common.kind, "IN", limit)
            assert cut.sightings == full.sightings[:limit] and cut.truncated == (limit < len(full.sightings)), limit


def test_searches_of_one_shape_each_find_their_own_value(routed: tuple[str, Engine]) -> None:
    """The search's statements are built once per shape and bound per search (issue 15: building a dozen-branch
    statement cost more than running it): values of one kind searched in turn, and report numbers read as a dozen
    kinds each, find their own holders, never the previous search's."""
    _, engine = routed
    from tipfusion.search.lookup import search

    with engine.connect() as conn:
        phones = list(
            conn.execute(
                select(o.c.canonical)
                .where(o.c.kind == "phone", o.c.is_current.is_(True))
                .distinct()
                .order_by(o.c.canonical)
                .limit(2)
            ).scalars()
        )
        numbers = [
            int(n) for n in conn.execute(select(reports.c.report_id).order_by(reports.c.report_id).limit(2)).scalars()
        ]
    assert len(phones) == 2 and len(numbers) == 2
    expected = {canonical: holders(engine, "phone", canonical) for canonical in phones}
    with engine.connect() as conn:
        for canonical in [*phones, *reversed(phones)]:
            result = search(conn, canonical, "phone", "IN")
            assert {s["report_id"] for s in result.sightings} == expected[canonical]
            assert {s["canonical"] for s in result.sightings} == {canonical}
        for number in [*numbers, *reversed(numbers)]:
            result = search(conn, str(number), None, "IN")
            assert len(result.readings) > 3, "a bare number is read as several kinds"
            assert [r["report_id"] for r in result.reports if r["itself"]] == [number]
