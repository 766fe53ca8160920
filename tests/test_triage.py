"""Triage: every factor with its contribution, caps, recency, analyst pins and lowerings, lead hits."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Connection, Engine, select

from tests.conftest import FIXTURES
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.link.service import LinkService
from tipfusion.store.tables import audit_events
from tipfusion.triage.factors import ENTICEMENT, ReportFacts, SuspectFacts, score_report
from tipfusion.triage.service import TriageService, adjust, lead_hits, queue
from tipfusion.triage.settings import TriageSettings

S = TriageSettings()
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def factors(facts: ReportFacts, suspect: SuspectFacts | None = None, weights: TriageSettings = S) -> dict[str, float]:
    score, parts = score_report(facts, suspect, NOW, weights)
    assert score == round(sum(p for _, p, _ in parts), 2)
    return {name: points for name, points, _ in parts}


def test_each_report_factor() -> None:
    found = factors(
        ReportFacts(
            1,
            escalation="child at risk",
            ncmec_priority="1",
            incident_type=ENTICEMENT,
            incident_at=NOW - timedelta(days=3),
            annotations={"sextortion", "spam"},
            file_annotations={"infant", "physicalHarm", "liveStreaming"},
            minor_contact=True,
            files=2,
            new_files=1,
            prior_reports=5,
        )
    )
    assert found == {
        "escalated": S.escalated,
        "ncmec_priority": S.ncmec_priority["1"],
        "enticement": S.enticement,
        "contact_annotation": S.contact_annotations["sextortion"],  # spam is not a contact annotation
        "minor_contact": S.minor_contact,
        "harm_annotations": min(
            S.harm_cap, sum(S.harm_annotations[a] for a in ("infant", "physicalHarm", "liveStreaming"))
        ),
        "new_content": S.new_content,
        "prior_reports": min(S.prior_report_cap, 5 * S.prior_report),
        "recent": S.recent_30_days,
    }


def test_circulating_only_and_older_reports() -> None:
    found = factors(ReportFacts(1, incident_at=NOW - timedelta(days=60), files=2, circulating_files=2))
    assert found == {"only_circulating": S.only_circulating, "recent": S.recent_90_days}
    assert factors(ReportFacts(1, incident_at=NOW - timedelta(days=400))) == {}


def test_suspect_factors_and_caps() -> None:
    suspect = SuspectFacts("S1", reports=30, network_size=40, identifiable=True, lead_refs={"L1", "L2", "L3"})
    found = factors(ReportFacts(1), suspect)
    assert found == {
        "repeat_activity": min(S.repeat_cap, 29 * S.repeat_report),
        "network": min(S.network_cap, 39 * S.network_member),
        "identifiable": S.identifiable,
        "lead_hits": min(S.lead_cap, 3 * S.lead_hit),
    }
    assert factors(ReportFacts(1), SuspectFacts("S2"))["identifiable"] == S.unidentifiable


def scaled(k: float) -> TriageSettings:
    """Every weight and cap times k (thresholds such as circulating_holders are counts, not weights)."""
    changes: dict[str, object] = {}
    for setting in fields(TriageSettings):
        value = getattr(S, setting.name)
        if isinstance(value, float):
            changes[setting.name] = value * k
        elif isinstance(value, dict):
            changes[setting.name] = {name: weight * k for name, weight in value.items()}
    return replace(S, **changes)  # type: ignore[arg-type]


EVERY_FACTOR = [
    (
        ReportFacts(
            1,
            escalation="child at risk",
            ncmec_priority="2",
            incident_type=ENTICEMENT,
            incident_at=NOW - timedelta(days=3),
            annotations={"sextortion", "minorToMinorInteraction"},
            file_annotations={"infant", "possibleSelfProduction"},
            minor_contact=True,
            files=2,
            new_files=1,
            prior_reports=2,
        ),
        SuspectFacts("S1", reports=4, network_size=3, identifiable=True, lead_refs={"L1"}),
    ),
    (ReportFacts(1, incident_at=NOW - timedelta(days=60), files=2, circulating_files=2), SuspectFacts("S2")),
]


@pytest.mark.parametrize("k", [0.5, 2.0, 3.0])
def test_every_factor_is_its_setting_and_moves_with_it(k: float) -> None:
    """No factor is a number of its own: scale every weight and cap and every contribution scales with it."""
    for facts, suspect in EVERY_FACTOR:
        base = factors(facts, suspect)
        assert base and all(points != 0 for points in base.values())
        assert factors(facts, suspect, scaled(k)) == pytest.approx({n: p * k for n, p in base.items()}, abs=0.011)


@pytest.fixture
def linked(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    (batch / "file.xml").write_bytes((FIXTURES / "file-0a1b2c3d.xml").read_bytes())
    (batch / "300000001.xml").write_bytes((FIXTURES / "full" / "300000001.xml").read_bytes())
    (batch / "lead.csv").write_text(
        "lead_ref,agency,kind,value,country\nDE-1,Example Foreign Police,phone,"
        "+49 1555 0000123,DE\nDE-1,Example Foreign Police,phone,+49 1555 0000999,DE\n"
    )
    IngestService(engine, Settings(database_url=db_url), "tester").ingest_paths([batch])
    LinkService(engine, "tester").run()
    return engine


def test_queue_pins_and_lowerings_survive_reruns(linked: Engine) -> None:
    TriageService(linked, "tester").run()
    with linked.connect() as conn:
        first = queue(conn, "report", 10)
    assert [r["id"] for r in first] == ["300000001", "100000042"]  # escalated enticement first
    assert first[0]["factors"][0][0] == "escalated"
    adjust(linked, "analyst", "report", "100000042", "pin", "suspect arrested in another case")
    adjust(linked, "analyst", "report", "300000001", "lower", "duplicate of an older case", 500)
    for _ in range(2):
        TriageService(linked, "tester").run()
        with linked.connect() as conn:
            rows = queue(conn, "report", 10)
        assert [r["id"] for r in rows] == ["100000042", "300000001"] and rows[0]["pinned"]
        assert rows[1]["score"] < 0 and rows[1]["factors"][-1][0] == "analyst_lower"
    with linked.connect() as conn:
        actions = set(conn.execute(select(audit_events.c.action)).scalars())
    assert {"triage.pin", "triage.lower", "triage.completed"} <= actions


def test_priorities_written_a_slice_at_a_time_are_the_same_rows(
    linked: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triage writes its rows in slices (1 M reports' rows made at once peaked at 3.3 GB): any slice size gives the
    same table, pins, lowerings and annotation factors included."""
    from tipfusion.store import bulk
    from tipfusion.store.tables import priorities

    adjust(linked, "analyst", "report", "100000042", "pin", "suspect arrested in another case")
    adjust(linked, "analyst", "report", "300000001", "lower", "duplicate of an older case", 5)

    def table() -> list[tuple[object, ...]]:
        columns = (priorities.c.object_type, priorities.c.object_id, priorities.c.score, priorities.c.pinned)
        with linked.connect() as conn:
            return [(*row[:4], json_text(row[4])) for row in conn.execute(select(*columns, priorities.c.factors))]

    TriageService(linked, "tester").run()
    whole = table()
    monkeypatch.setattr(bulk, "INSERT_ROWS_AT_ONCE", 2)  # slices of two, the last maybe of one
    TriageService(linked, "tester").run()
    assert sorted(table()) == sorted(whole)
    levels = {row[0] for row in whole}
    assert levels == {"report", "suspect", "network"} or levels == {"report", "suspect"}
    assert len(whole) >= 3 and any(row[3] for row in whole), "the pin is among the rows compared"


def json_text(value: object) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def test_lead_hits_raise_priority(linked: Engine) -> None:
    with linked.connect() as conn:
        hits = lead_hits(conn)
    assert [(h["lead_ref"], h["value"], h["report_id"]) for h in hits] == [("DE-1", "+4915550000123", 100000042)]
    assert hits[0]["agency"] == "Example Foreign Police" and hits[0]["suspect_id"]
    TriageService(linked, "tester").run()
    with linked.connect() as conn:
        (row,) = [r for r in queue(conn, "report", 10) if r["id"] == "100000042"]
    assert ["lead_hits", S.lead_hit, "named in lead(s) DE-1"] in row["factors"]


def test_adjusting_something_unknown_fails(linked: Engine) -> None:
    from tipfusion.errors import NotFound

    with pytest.raises(NotFound):
        adjust(linked, "analyst", "suspect", "S1", "pin", "x")


def test_identifiable_is_read_from_every_sighting_of_the_suspects_reports(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """A suspect is identifiable when any of its reports holds an IP the ISP can tie to a subscriber or a valid phone
    or email on an account. The store read returns each report once whatever its sightings (made distinct in Python,
    not with SQL's DISTINCT: see store/triage.py); here the answer is worked out again from the sightings, suspect by
    suspect. Synthetic reports nearly all carry a contact, so contacts are then taken away from a third of the
    suspects and their IPs too from a third of those, and the answer checked again: each way must then occur."""
    from sqlalchemy import update

    from tipfusion.pipeline import through_routing
    from tipfusion.store.tables import identifier_observations as o
    from tipfusion.store.tables import priorities, report_links
    from tipfusion.synth import generate

    through_routing(engine, Settings(database_url=db_url), "tester", generate(tmp_path / "batch", 80, seed=11))
    ip = (o.c.kind == "ip") & o.c.identifiable.is_(True)
    contact = o.c.kind.in_(["phone", "email"]) & o.c.valid.is_(True) & o.c.account_ordinal.is_not(None)

    def suspects_of(conn: Connection, where: ColumnElement[bool]) -> set[str]:
        reports = select(o.c.report_id).where(o.c.is_current.is_(True), where)
        return set(
            conn.execute(select(report_links.c.suspect_id).where(report_links.c.report_id.in_(reports))).scalars()
        )

    def triaged_identifiable(conn: Connection) -> tuple[set[str], set[str]]:
        rows = conn.execute(
            select(priorities.c.object_id, priorities.c.factors).where(priorities.c.object_type == "suspect")
        ).all()
        assert rows and all(any(name == "identifiable" for name, _, _ in factors) for _, factors in rows)
        said = {s for s, factors in rows if ["identifiable", S.identifiable] in [f[:2] for f in factors]}
        return said, {s for s, _ in rows}

    with engine.connect() as conn:
        said, everyone = triaged_identifiable(conn)
        assert said == suspects_of(conn, ip | contact)
    unreachable = sorted(everyone)[::3]
    no_ip = unreachable[::3]
    with engine.begin() as conn:
        for suspects, kinds, change in (
            (unreachable, ["phone", "email"], {"valid": False}),
            (no_ip, ["ip"], {"identifiable": False}),
        ):
            reports = select(report_links.c.report_id).where(report_links.c.suspect_id.in_(suspects))
            conn.execute(update(o).where(o.c.report_id.in_(reports), o.c.kind.in_(kinds)).values(**change))
    TriageService(engine, "tester").run()
    with engine.connect() as conn:
        said, everyone = triaged_identifiable(conn)
        assert said == suspects_of(conn, ip | contact)
        by_ip_only = suspects_of(conn, ip) - suspects_of(conn, contact)
    assert by_ip_only & said and everyone - said  # identifiable by an IP alone, and not identifiable at all, both seen
