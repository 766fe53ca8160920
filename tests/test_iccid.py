"""The `iccid` kind (SIM card numbers): its cleaner's properties, and one SIM from a foreign lead list met in a report
through ingest, search, linking and the MISP/STIX exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.test_kinds import _dossier
from tipfusion.cli.main import app
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.link.extract import load_input
from tipfusion.normalise import Context, clean
from tipfusion.normalise.iccid import looks_like_iccid
from tipfusion.refer.interop import misp_event, stix_bundle, validate_misp

NO_CONTEXT = Context()


def with_check_digit(body: str) -> str:
    """`body` and the Luhn check digit that makes it valid."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


iccids = st.builds(
    lambda rest: with_check_digit("89" + rest),
    st.sampled_from([16, 17]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
)


@given(iccids)
def test_a_well_formed_iccid_is_valid_and_its_own_canonical_form(iccid: str) -> None:
    cleaned = clean("iccid", iccid, NO_CONTEXT)
    assert cleaned is not None and cleaned.valid and cleaned.flags == ()
    assert cleaned.value == cleaned.canonical == iccid
    assert looks_like_iccid(iccid)


@given(iccids, st.lists(st.sampled_from([" ", "-", "."]), min_size=1, max_size=5), st.data())
def test_separators_as_people_write_them_do_not_change_it(iccid: str, separators: list[str], data: Any) -> None:
    text = iccid
    for separator in separators:
        at = data.draw(st.integers(1, len(text) - 1))
        text = text[:at] + separator + text[at:]
    assert clean("iccid", f" {text} ", NO_CONTEXT) == clean("iccid", iccid, NO_CONTEXT)
    assert clean("iccid", f"ICCID:{iccid}", NO_CONTEXT) == clean("iccid", iccid, NO_CONTEXT)


@given(iccids, st.data())
def test_any_one_wrong_digit_fails_the_check_and_is_kept_flagged(iccid: str, data: Any) -> None:
    at = data.draw(st.integers(2, len(iccid) - 1))  # past the 89 prefix
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != iccid[at]]))
    typo = iccid[:at] + digit + iccid[at + 1 :]
    cleaned = clean("iccid", typo, NO_CONTEXT)
    assert cleaned is not None and not cleaned.valid and "iccid_luhn_failed" in cleaned.flags
    assert cleaned.value == typo  # evidence is never dropped
    assert not looks_like_iccid(typo)


@given(st.text("0123456789", min_size=1, max_size=30))
def test_wrong_length_or_prefix_is_flagged(digits: str) -> None:
    cleaned = clean("iccid", digits, NO_CONTEXT)
    assert cleaned is not None
    assert ("iccid_length" in cleaned.flags) == (len(digits) not in (19, 20))
    assert ("iccid_prefix" in cleaned.flags) == (not digits.startswith("89"))


@given(st.text())
def test_any_text_cleans_without_raising(text: str) -> None:
    cleaned = clean("iccid", text, NO_CONTEXT)
    if cleaned is not None and cleaned.valid:
        assert cleaned.canonical.isascii() and cleaned.canonical.isdigit() and looks_like_iccid(cleaned.canonical)


SIM = "8991101200003204514"


def test_a_lead_listed_sim_meets_the_report_whose_handset_carried_it(
    engine: Engine, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    """A foreign force lists a SIM by ICCID; an ESP reported it as a device ID typed ICCID. Ingest keeps the lead,
    search finds both, linking sees one evidence key (so routing can say the suspect is named in the lead)."""
    report = (
        (FIXTURES / "full" / "300000001.xml")
        .read_bytes()
        .replace(b"8991 1010 0000 0000 0019", b"8991 1012 0000 3204 514")
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "300000001.xml").write_bytes(report)
    (tmp_path / "in" / "leads.csv").write_text(f"lead_ref,agency,kind,value\nDE-1,BKA,iccid,{SIM[:10]} {SIM[10:]}\n")
    summary = IngestService(engine, settings, "tester").ingest_paths([tmp_path / "in"])
    assert (summary.lead_identifiers, summary.quarantined) == (1, 0)

    result = CliRunner().invoke(app, ["--database", db_url, "search", SIM, "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output[result.output.index("{") :])
    assert [(lead["lead_ref"], lead["kind"]) for lead in found["leads"]] == [("DE-1", "iccid")]
    assert any(s["kind"] == "device" and s["canonical"] == f"ICCID:{SIM}" for s in found["sightings"])

    with engine.connect() as conn:
        data = load_input(conn)
    assert ("DE-1", "device", f"ICCID:{SIM}") in data.leads
    assert (300000001, "device", f"ICCID:{SIM}") in data.identity


def test_misp_and_stix_carry_a_sim_as_a_sim() -> None:
    identifier = {
        "kind": "iccid",
        "canonical": SIM,
        "shown": SIM,
        "values": [SIM],
        "reports": [1],
        "esps": ["esp.test"],
        "suspects": ["S1"],
        "first_seen_utc": None,
        "last_seen_utc": None,
        "valid": True,
        "flags": [],
        "enrichment": "",
        "provenance": [],
    }
    event = misp_event(_dossier([identifier]), None, synthetic=True)
    validate_misp(event)
    (sim,) = event["Event"]["Object"]
    assert sim["name"] == "phone"
    assert [(a["object_relation"], a["value"]) for a in sim["Attribute"]] == [("iccid", SIM)]
    bundle = stix_bundle(_dossier([identifier]), None, "Unit", synthetic=True)
    (person,) = [o for o in bundle["objects"] if o["type"] == "identity" and o["identity_class"] == "individual"]
    assert SIM in person["description"]
