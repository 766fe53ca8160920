"""Routing's deconfliction reads only the holders it needs (`store.deconfliction`, grouped in the database); what it
flags must be what the old computation over the whole link input (`link.extract.load_input`) flagged.

The batch has planted shared values (family phones, households, shared mailboxes) and rows that must not count: a
recipient's, a victim's and a reporter's copy of another suspect's value, a superseded version's, a content URL
(not on an account); and ones that must: a SIM sent as a device ID by one ESP and as an ICCID by another, an ISP's
answers (a subscriber's ID document written three ways, a phone), a value over the holders cap named in a lead list.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Connection, Engine, insert, select

from tests.conftest import StoreTemplates
from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.link.columns import IdentityRows
from tipfusion.link.extract import (
    COLOCATION,
    FILE_HASH,
    GROUP_KEY,
    IDENTITY_KEY,
    RECIPIENT,
    UNATTRIBUTED_IP,
    VERIFIED_KEY,
    address_evidence,
    file_flagged,
    flagged_files,
    load_input,
    sort_sightings,
    unattributed,
)
from tipfusion.link.records import LinkInput
from tipfusion.link.sightings import load_sightings
from tipfusion.pipeline import through_routing
from tipfusion.route.routing import Decision
from tipfusion.route.service import Holders, deconflict
from tipfusion.route.settings import RoutingSettings
from tipfusion.store import link_inputs as inputs
from tipfusion.store import links
from tipfusion.store import routing as reads
from tipfusion.store.bulk import rows_of
from tipfusion.store.db import snapshot
from tipfusion.store.tables import identifier_observations, isp_answers, lead_identifiers, leads, report_links
from tipfusion.synth import generate
from tipfusion.synth.world import Noise

ICCID = "8991101200003204514"
SETTINGS = [
    RoutingSettings(),
    RoutingSettings(deconflict_max_holders=2),
    RoutingSettings(deconflict_kinds=("device",), deconflict_max_holders=3),
    RoutingSettings(deconflict_kinds=("prior_report", "subscriber_id", "email", "screen_name")),
]

Holdings = dict[tuple[str, str], set[str]]


def old_holders(conn: Connection, kinds: set[str]) -> tuple[Holdings, list[tuple[str, str, str]]]:
    """The old computation: every identity key of the link input, of the kinds, by the suspect of its report."""
    data = load_input(conn)
    suspect_of = links.report_suspects(conn)
    holders: Holdings = defaultdict(set)
    for report, kind, key in data.identity:
        if kind in kinds and report in suspect_of:
            holders[(kind, key)].add(suspect_of[report])
    return dict(holders), data.leads


def old_flags(conn: Connection, decisions: dict[str, Decision], settings: RoutingSettings) -> dict[str, list[str]]:
    """`route.service.deconflict` as it was (no case open: its case part adds nothing)."""
    holders, lead_values = old_holders(conn, set(settings.deconflict_kinds))
    received: dict[str, set[str]] = defaultdict(set)
    for canonical, value in conn.execute(
        select(identifier_observations.c.canonical, identifier_observations.c.value).where(
            identifier_observations.c.kind == "device", identifier_observations.c.is_current.is_(True)
        )
    ):
        received[canonical].add(value)

    def name(kind: str, key: str) -> str:
        return f"{kind} {', '.join(sorted(received.get(key) or {key})) if kind == 'device' else key}"

    def place(suspect: str) -> str:
        decision = decisions.get(suspect)
        return (decision.station or decision.district or "central") if decision else "unrouted"

    flags: dict[str, list[str]] = defaultdict(list)
    for (kind, key), owners in holders.items():
        if len(owners) < 2 or len(owners) > settings.deconflict_max_holders:
            continue
        for suspect in owners:
            for other in sorted(owners - {suspect}):
                if place(other) != place(suspect):
                    flags[suspect].append(f"{name(kind, key)} also held by {other} ({place(other)})")
    agency = reads.lead_agencies(conn)
    for lead_ref, kind, key in lead_values:
        for suspect in holders.get((kind, key), set()):
            flags[suspect].append(f"named in lead {lead_ref} from {agency.get(lead_ref) or 'another agency'}")
    return {s: sorted(set(f)) for s, f in flags.items()}


def _plant(conn: Connection, report: int, **changes: Any) -> None:
    """A copy of one of `report`'s current reported-side sightings, with `changes`."""
    o = identifier_observations
    row = conn.execute(
        select(o).where(o.c.report_id == report, o.c.is_current.is_(True)).order_by(o.c.id).limit(1)
    ).one()
    values = {**row._mapping, "origin": "field", "valid": True, "role": "reported", **changes}
    values.pop("id")
    conn.execute(insert(o).values(**values))


def _answer(conn: Connection, report: int, line: int, **given: Any) -> None:
    stamp = datetime(2025, 3, 1, tzinfo=UTC)
    conn.execute(
        insert(isp_answers).values(
            request_id=1,
            item=line,
            report_id=report,
            ip="192.0.2.1",
            observed_at=stamp,
            source_sha256="0" * 64,
            line=line,
            received_at=stamp,
            **given,
        )
    )


def _value_of(conn: Connection, report: int, kind: str) -> str:
    o = identifier_observations
    return str(
        conn.execute(
            select(o.c.canonical)
            .where(o.c.report_id == report, o.c.kind == kind, o.c.is_current.is_(True), o.c.role == "reported")
            .order_by(o.c.id)
            .limit(1)
        ).scalar_one()
    )


def _plant_all(engine: Engine) -> tuple[list[str], str, str, str]:
    """The rows that must and must not count (see the module's docstring): the suspects used (the second one's
    email and phone are the ones planted elsewhere: returned too), and a phone planted on more suspects than the
    default cap."""
    with engine.begin() as conn:
        firsts: dict[str, int] = {}
        for report, suspect in sorted(conn.execute(select(report_links.c.report_id, report_links.c.suspect_id))):
            firsts.setdefault(suspect, report)
        ordered = sorted(firsts.items(), key=lambda item: item[1])
        o = identifier_observations
        reported = select(o.c.report_id).where(o.c.role == "reported", o.c.is_current.is_(True))
        with_email = set(conn.execute(reported.where(o.c.kind == "email")).scalars())
        with_phone = set(conn.execute(reported.where(o.c.kind == "phone")).scalars())
        both = next(item for item in ordered if item[1] in with_email & with_phone)
        others = [item for item in ordered if item != both]
        chosen = [others[0], both, *others[1:15]]
        r = [report for _, report in chosen]
        email_2, phone_2 = _value_of(conn, r[1], "email"), _value_of(conn, r[1], "phone")
        for report, role in ((r[0], "recipient"), (r[2], "victim"), (r[3], "reporter")):
            _plant(conn, report, kind="email", canonical=email_2, value=email_2, role=role)
        _plant(conn, r[4], kind="phone", canonical=phone_2, value=phone_2, is_current=False)
        _plant(conn, r[4], kind="phone", canonical=phone_2, value=phone_2, origin="inferred")
        _plant(conn, r[5], kind="phone", canonical=phone_2, value=phone_2, valid=False)
        _plant(conn, r[0], kind="device", canonical=f"ICCID:{ICCID}", value=f"ICCID:{ICCID}")
        _plant(conn, r[6], kind="iccid", canonical=ICCID, value=ICCID)
        _plant(conn, r[2], kind="url", canonical="example.com/shared", account_ordinal=None)
        _plant(conn, r[3], kind="url", canonical="example.com/shared", account_ordinal=0)
        _plant(conn, r[4], kind="url", canonical="example.com/shared", account_ordinal=0)
        crowded = "+915550009999"
        for report in r[5:16]:  # 11 suspects: over the default cap of 10
            _plant(conn, report, kind="phone", canonical=crowded, value=crowded)
        _answer(conn, r[7], 1, id_document_type=" aadhaar", id_document_number="1234 5678 9012", phone=phone_2)
        _answer(conn, r[8], 2, id_document_type="AADHAAR", id_document_number="123456789012", email="")
        _answer(conn, r[9], 3, id_document_type="Aadhaar ", id_document_number="1234\t56789012", email=email_2)
        _answer(conn, r[10], 4, id_document_type=None, id_document_number="", alternate_phone=phone_2, email="")
        stamp = datetime(2025, 3, 1, tzinfo=UTC)
        conn.execute(insert(leads).values(lead_ref="XX-1", agency="Example Police", first_ingested_at=stamp))
        for line, (kind, value) in enumerate((("iccid", ICCID), ("phone", crowded), ("email", email_2))):
            conn.execute(
                insert(lead_identifiers).values(
                    lead_ref="XX-1",
                    kind=kind,
                    value=value,
                    canonical=value,
                    raw=value,
                    valid=True,
                    source_sha256="1" * 64,
                    line=line,
                )
            )
    return [suspect for suspect, _ in chosen], email_2, phone_2, crowded


Planted = tuple[list[str], str, str, str]


def _planted(engine: Engine, db_url: str, folder: Path) -> Planted:
    noise = Noise(family_phone_share=0.5, household_share=0.5, shared_email_share=0.5)
    through_routing(engine, Settings(database_url=db_url), "t", generate(folder / "batch", 160, 23, noise=noise))
    return _plant_all(engine)


@pytest.fixture
def prepared(db_url: str, store_templates: StoreTemplates) -> Iterator[tuple[Engine, Planted]]:
    """The test's own copy of the planted store (`_planted`: built once per worker and database) and what was
    planted in it."""
    engine, planted = store_templates.prepare(db_url, "deconfliction-planted", _planted)
    yield engine, planted
    engine.dispose()


@pytest.fixture
def engine(prepared: tuple[Engine, Planted]) -> Engine:
    """Every test here reads the planted store (this module's `engine` is not conftest's empty one)."""
    return prepared[0]


@pytest.fixture
def planted(prepared: tuple[Engine, Planted]) -> Planted:
    return prepared[1]


def _decisions(conn: Connection) -> dict[str, Decision]:
    """A random place for each suspect (three stations, a district, central; some unrouted), so most shared values
    cross places."""
    rng = random.Random(5)
    places: list[tuple[str | None, str | None]] = [
        ("North", "PS A"),
        ("North", "PS B"),
        ("South", "PS C"),
        ("South", None),
        (None, None),
    ]
    out = {}
    for suspect in sorted(conn.execute(select(report_links.c.suspect_id).distinct()).scalars()):
        if rng.random() < 0.9:
            district, station = rng.choice(places)
            out[suspect] = Decision(district, station, "test", "low")
    return out


@pytest.mark.usefixtures("planted")
@pytest.mark.parametrize("settings", SETTINGS, ids=["default", "cap2", "device-cap3", "other-kinds"])
def test_deconfliction_flags_what_the_whole_link_input_flagged(engine: Engine, settings: RoutingSettings) -> None:
    with engine.connect() as conn:
        decisions = _decisions(conn)
        expected = old_flags(conn, decisions, settings)
        before, _ = old_holders(conn, set(settings.deconflict_kinds))
    with UnitOfWork(engine, "t") as uow:
        got = deconflict(uow, decisions, settings)
        holders = Holders(uow.conn, set(settings.deconflict_kinds))
        shared = holders.shared(settings.deconflict_max_holders)
        every = holders.of(set(before))
    assert got == expected
    assert every == before  # any value's holders, however many (a lead's, an open case's)
    cap = settings.deconflict_max_holders
    assert shared == {v: s for v, s in before.items() if 2 <= len(s) <= cap}
    assert expected, "the planted batch flags someone under every setting"


def test_the_planted_rows_count_as_they_should(engine: Engine, planted: tuple[list[str], str, str, str]) -> None:
    """Not a comparison: what the planted rows must do, so the comparison above runs over each rule."""
    chosen, email_2, phone_2, crowded = planted
    settings = RoutingSettings()
    with UnitOfWork(engine, "t") as uow:
        holders = Holders(uow.conn, set(settings.deconflict_kinds))
        of: Callable[[str, str], set[str]] = lambda kind, key: holders.of({(kind, key)}).get((kind, key), set())  # noqa: E731
        shared = holders.shared(settings.deconflict_max_holders)
        # the role rule: a recipient's, victim's or reporter's copy of the value is not theirs; the ISP's answer is
        assert chosen[0] not in of("email", email_2) and chosen[2] not in of("email", email_2)
        assert chosen[3] not in of("email", email_2) and {chosen[1], chosen[9]} <= of("email", email_2)
        # a superseded version's, an inferred and an invalid value do not count; the ISP's phones do
        assert chosen[4] not in of("phone", phone_2) and chosen[5] not in of("phone", phone_2)
        assert {chosen[1], chosen[7], chosen[10]} <= of("phone", phone_2)
        # one SIM, sent as a device ID and as an ICCID
        assert shared[("device", f"ICCID:{ICCID}")] == {chosen[0], chosen[6]}
        # a profile URL counts, a content URL does not
        assert shared[("url", "example.com/shared")] == {chosen[3], chosen[4]}
        # one ID document written three ways
        assert shared[("subscriber_id", "AADHAAR:123456789012")] == {chosen[7], chosen[8], chosen[9]}
        # over the cap: not shared, but a lead naming it still names every holder
        assert ("phone", crowded) not in shared and len(of("phone", crowded)) == 11
        decisions = {s: Decision(None, f"PS {n}", "test", "low") for n, s in enumerate(chosen)}
        flags = deconflict(uow, decisions, settings)
    assert all("named in lead XX-1 from Example Police" in flags[s] for s in chosen[5:16])
    assert f"device ICCID:{ICCID} also held by {chosen[6]} (PS 6)" in flags[chosen[0]]


@pytest.mark.usefixtures("planted")
def test_the_databases_reads_of_sightings_are_the_python_rules(engine: Engine) -> None:
    """The embedded engine reads the sightings sorted by the database (`store.link_inputs`: each kind's rule written in
    SQL) and sorts only addresses in Python; the Spark engine sorts every sighting with `sort_sightings`. Both must
    give the same rows, as many times each: the planted rows put each rule to the test (role, superseded, inferred,
    invalid, ICCID, a URL on an account and off one)."""
    with snapshot(engine) as conn:
        types = dict(inputs.rows(conn, inputs.NETWORK_TYPES))
        every = Counter(sort_sightings((*row, types.get(row[4])) for row in inputs.rows(conn, inputs.SIGHTINGS)))
        split: Counter[tuple[str, int, Any, Any]] = Counter()
        for report, tag, kind, key, verified, number, observed_at in inputs.rows(conn, inputs.SORTED_SIGHTINGS):
            if tag == inputs.IDENTITY_ROW:
                split[(IDENTITY_KEY, report, kind, key)] += 1
                split[(VERIFIED_KEY, report, kind, key)] += 1 if verified else 0
            elif tag == inputs.ADDRESS_ROW:
                split.update(address_evidence(report, key, types.get(key), number, observed_at))
            else:
                row = {
                    inputs.GROUP_ROW: (GROUP_KEY, report, key, None),
                    inputs.RECIPIENT_ROW: (RECIPIENT, report, key, None),
                }
                split[row.get(tag, (FILE_HASH, report, number, key))] += 1
    assert +split == every
    keyed = {(kind, key[:6]) for tag, _, kind, key in every if tag == IDENTITY_KEY}
    assert {("device", "ICCID:"), ("url", "exampl")} <= keyed and "ip_fixed" in {kind for kind, _ in keyed}
    assert {tag for tag, *_ in every} == {
        IDENTITY_KEY,
        VERIFIED_KEY,
        GROUP_KEY,
        FILE_HASH,
        RECIPIENT,
        UNATTRIBUTED_IP,
        COLOCATION,
    }


@pytest.mark.usefixtures("planted")
def test_linking_reads_the_whole_sightings_table_by_a_scan(engine: Engine) -> None:
    """Linking's reads of the sightings table alone take nearly every current row. On SQLite they scan it: a store
    without planner statistics (SQLite keeps none unless ANALYZE ran) otherwise reads them through the lookup index, a
    table seek per row, 2.5× slower at 100,000 reports. The scan returns the same rows, as many times each; elsewhere
    the text is the query as written."""
    with snapshot(engine) as conn:
        for source in (inputs.SIGHTINGS, inputs.SORTED_SIGHTINGS):
            written = inputs.query_text(conn, source)
            plain = (
                source.sql
                if isinstance(source, inputs.Input)
                else str(source.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            )
            assert Counter(rows_of(conn, written)) == Counter(rows_of(conn, plain)) != Counter()
            if conn.dialect.name != "sqlite":
                assert written == plain
                continue
            plan = [step[3] for step in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {written}")]
            assert plan in (["SCAN o"], ["SCAN identifier_observations"]), plan
            unhinted = [step[3] for step in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {plain}")]
            assert any("USING INDEX ix_observations_lookup" in step for step in unhinted), unhinted  # what it avoids


def _row_by_row(conn: Connection) -> tuple[LinkInput, dict[tuple[int, int], str]]:
    """The sorted sightings put where they belong a row at a time, as the embedded engine did before it read them as
    columns: the reference `link.sightings.load_sightings` must equal, row for row and code for code."""
    types = dict(inputs.rows(conn, inputs.NETWORK_TYPES))
    data = LinkInput(reports=[], identity=IdentityRows())
    file_hashes: dict[tuple[int, int], str] = {}
    ip_suppressed: dict[tuple[str, str], set[int]] = defaultdict(set)

    def identity_rows() -> Iterator[tuple[int, str, str, Any]]:
        for report, tag, kind, key, verified, number, observed_at in inputs.rows(conn, inputs.SORTED_SIGHTINGS):
            if tag == inputs.IDENTITY_ROW:
                yield report, kind, key, verified
            elif tag == inputs.ADDRESS_ROW:
                for found, _, a, b in address_evidence(report, key, types.get(key), number, observed_at):
                    if found == IDENTITY_KEY:
                        yield report, a, b, False
                    elif found == COLOCATION:
                        data.colocations.append((report, a))
                    else:
                        ip_suppressed[(a, b)].add(report)
            elif tag == inputs.FILE_ROW:
                held = file_hashes.get((report, number))
                if held is None or key < held:
                    file_hashes[(report, number)] = key
            elif tag == inputs.GROUP_ROW:
                data.groups.append((report, key))
            else:
                data.recipients.append((report, key))

    data.identity.load(identity_rows(), data.verified)
    data.suppressed.extend(
        unattributed(ip, why, len(held)) for (ip, why), held in ip_suppressed.items() if len(held) > 1
    )
    return data, file_hashes


@pytest.mark.usefixtures("planted")
@pytest.mark.parametrize("batch", [None, 1, 7, 100])
def test_the_sightings_read_as_columns_are_the_rows_read_one_by_one(engine: Engine, batch: int | None) -> None:
    """Linking reads the sorted sightings as columns, a batch at a time (`link.sightings`): whatever the batches, it
    puts each row where the row-by-row code put it, codes each value as that code did (in the order first seen), and
    keys each file by the same hash; a file or an address two batches hold counts once."""
    with snapshot(engine) as conn:
        expected, file_hashes = _row_by_row(conn)
        types = dict(inputs.rows(conn, inputs.NETWORK_TYPES))
        read = list(inputs.batches(conn, inputs.SORTED_SIGHTINGS, inputs.SORTED_SIGHTING_COLUMNS))
    if batch is not None:
        read = pa.Table.from_batches(read).to_batches(max_chunksize=batch)
    data = LinkInput(reports=[], identity=IdentityRows())
    files = load_sightings(read, types, data)
    assert len(data.identity) > 1000 and len(data.colocations) and len(data.suppressed) and len(file_hashes) > 100
    for name in ("identity", "verified", "groups", "recipients", "colocations"):
        got, wanted = getattr(data, name), getattr(expected, name)
        assert list(got) == list(wanted), name
        assert got.value_ids.tolist() == wanted.value_ids.tolist(), name
    assert data.identity.kinds == expected.identity.kinds
    assert data.suppressed == expected.suppressed
    assert list(files.key_of().items()) == list(file_hashes.items())


@pytest.mark.usefixtures("planted")
def test_the_files_read_as_columns_are_flagged_by_the_row_rule(engine: Engine) -> None:
    """`flagged_files` asks `file_flagged` only where it could say yes (a batched report, a meme flag, an annotation):
    it flags exactly the files the rule flags when asked of every file."""
    with snapshot(engine) as conn:
        batched = {report for (report,) in inputs.rows(conn, inputs.BATCHED)}
        expected = {
            (report, ordinal)
            for report, ordinal, flags, meme in inputs.rows(conn, inputs.FILES)
            if file_flagged(flags, meme, report in batched)
        }
        reports, ordinals = flagged_files(conn)
        every = sum(1 for _ in inputs.rows(conn, inputs.FILES))
    assert set(zip(reports.tolist(), ordinals.tolist(), strict=True)) == expected
    assert len(reports) == len(expected) and 0 < len(expected) < every


def test_a_report_another_cites_holds_its_own_number(engine: Engine) -> None:
    """A report's number is a value of its own only where another report cites it (or a lead lists it), written as
    the report's id is; a number nobody cites, or cited with a leading zero, gives no row."""
    with engine.begin() as conn:
        reported = select(identifier_observations.c.report_id).where(identifier_observations.c.is_current.is_(True))
        cited, citing, lone = sorted(set(conn.execute(reported).scalars()))[-3:]
        _plant(conn, citing, kind="prior_report", canonical=str(cited), value=str(cited))
        _plant(conn, citing, kind="prior_report", canonical=f"0{lone}", value=f"0{lone}")
    with engine.connect() as conn:
        rows = list(load_input(conn).identity.of_kinds({"prior_report"}))
    assert (cited, "prior_report", str(cited)) in rows and (citing, "prior_report", str(cited)) in rows
    assert (citing, "prior_report", f"0{lone}") in rows and (lone, "prior_report", str(lone)) not in rows
    assert (citing, "prior_report", str(citing)) not in rows
    own = [report for report, _, number in rows if number == str(report)]
    assert own == sorted(own)  # in the order of the reports, as linking reads them
