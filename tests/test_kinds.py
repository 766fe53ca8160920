"""Every identifier kind reaches every place that needs it: each stage derives its kinds from the registry, and this
test walks the registry so that a kind a stage does not take fails here, named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tipfusion.ingest import builder
from tipfusion.ingest.leads_csv import parse_leads
from tipfusion.link import extract
from tipfusion.link.settings import LinkSettings
from tipfusion.normalise import KINDS, Context, IdentifierKind, clean
from tipfusion.normalise.kind import ACCOUNT, ADDRESS, FILE, GROUP, IDENTITY, STIX_FORMS
from tipfusion.normalise.registry import LEAD_KINDS
from tipfusion.refer import dossier as dossier_module
from tipfusion.refer.dossier import Dossier
from tipfusion.refer.interop import misp_event, stix_bundle, validate_misp
from tipfusion.refer.words import KIND as KIND_WORDS
from tipfusion.route.settings import RoutingSettings
from tipfusion.search.readings import readings

ALL = sorted(KINDS.values(), key=lambda k: k.name)
SCOPES = ["esp.test"]


def _identifier(kind: IdentifierKind) -> dict[str, Any]:
    """The kind's example as the dossier carries an identifier of it."""
    cleaned = clean(kind.name, kind.example, Context(esp_scope="esp.test"))
    assert cleaned is not None
    return {
        "kind": kind.name,
        "canonical": cleaned.canonical,
        "shown": kind.shown(cleaned.canonical, [cleaned.value]),
        "values": [cleaned.value],
        "reports": [1],
        "esps": ["esp.test"],
        "suspects": ["S1"],
        "first_seen_utc": "2026-05-01T10:00:00Z",
        "last_seen_utc": "2026-05-02T10:00:00Z",
        "valid": True,
        "flags": [],
        "enrichment": "",
        "provenance": [],
    }


def _dossier(identifiers: list[dict[str, Any]]) -> Dossier:
    return Dossier(
        subject_type="suspect",
        subject_id="S1",
        suspects=["S1"],
        network_id=None,
        network=None,
        priority=None,
        suspect_priorities={},
        routing=[],
        reports=[],
        identifiers=identifiers,
        ip_timeline=[],
        other_parties=[],
        files=[],
        answers=[],
        requests=[],
        display_timezone="Asia/Kolkata",
    )


def test_the_registry_is_keyed_by_each_kind_s_name() -> None:
    assert all(name == kind.name for name, kind in KINDS.items())
    assert len({k.lead_name for k in KINDS.values() if k.lead_name}) == len(LEAD_KINDS)


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_the_example_cleans_to_a_valid_value(kind: IdentifierKind) -> None:
    cleaned = clean(kind.name, kind.example, Context(esp_scope="esp.test"))
    assert cleaned is not None and cleaned.valid, f"{kind.name}: its example {kind.example!r} does not clean"


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_people_read_it_in_both_languages(kind: IdentifierKind) -> None:
    assert KIND_WORDS[kind.name] == (kind.label, kind.label_hi)
    assert kind.label and kind.label_hi


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_search_reads_the_example_as_this_kind(kind: IdentifierKind) -> None:
    named = readings(kind.example, kind.name, "GB", SCOPES)
    assert named and {r.kind for r in named} == {kind.name}
    if kind.recognise is not None:
        assert kind.recognise(kind.example)
        guessed = readings(kind.example, None, "GB", SCOPES)
        assert guessed[0].kind == kind.name, "a kind that recognises a shape is the first reading of it"


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_linking_takes_it_with_the_kind_s_own_defaults(kind: IdentifierKind) -> None:
    settings = LinkSettings()
    if kind.links is None:
        assert kind.name not in extract.LINKS
        return
    assert extract.LINKS[kind.name] == kind.links
    assert kind.links.how in {IDENTITY, ACCOUNT, ADDRESS, GROUP, FILE}
    if kind.links.how == IDENTITY and kind.links.same_as is None:
        assert [e.key for e in kind.links.evidence] == [kind.name], "identity evidence is keyed by the kind"
    if kind.links.same_as is not None:  # it links as another kind's value, with that kind's weight
        cleaned = clean(kind.name, kind.example)
        assert cleaned is not None and not kind.links.evidence
        assert kind.links.key(kind.name, cleaned.canonical)[0] in settings.weights
    for evidence in kind.links.evidence:
        assert settings.weights[evidence.key] == evidence.weight
        assert settings.caps[evidence.key] == evidence.cap
        assert evidence.weight > 0 and evidence.cap >= 2
    assert (kind.name in RoutingSettings().deconflict_kinds) == kind.links.deconflict


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_ingest_scopes_it_when_the_kind_says(kind: IdentifierKind) -> None:
    assert (kind.name in builder.SCOPED_KINDS) == kind.esp_scoped
    if kind.esp_scoped:
        one = clean(kind.name, kind.example, Context(esp_scope="a.test"))
        other = clean(kind.name, kind.example, Context(esp_scope="b.test"))
        assert one is not None and other is not None and one.canonical != other.canonical


@pytest.mark.parametrize("kind", [k for k in ALL if k.lead_name], ids=lambda k: k.name)
def test_a_lead_list_carries_it(kind: IdentifierKind) -> None:
    data = f'lead_ref,agency,kind,value\nL-1,Agency,{kind.lead_name},"{kind.example}"\n'.encode()
    (item,) = parse_leads(data, source="leads.csv", phone_region="GB")
    assert item.kind == kind.name and item.valid
    cleaned = clean(kind.name, kind.example, Context(phone_region="GB"))
    assert cleaned is not None and item.canonical == cleaned.canonical


def test_a_lead_list_names_the_kinds_it_takes() -> None:
    from tipfusion.errors import DocumentRejected

    with pytest.raises(DocumentRejected) as refused:
        parse_leads(b"lead_ref,kind,value\nL-1,display_name,x\n", source="leads.csv", phone_region="GB")
    assert all(word in str(refused.value) for word in LEAD_KINDS)


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_referrals_order_and_show_it(kind: IdentifierKind) -> None:
    assert dossier_module._KIND_ORDER[kind.name] == kind.rank
    assert dossier_module.shown_form(kind.name, "canonical", ["as received"]) == (
        "as received" if kind.shown_as_received else "canonical"
    )


def _template(name: str) -> dict[str, Any]:
    import pymisp

    path = Path(pymisp.__file__).parent / "data" / "misp-objects" / "objects" / name / "definition.json"
    definition: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return definition


@pytest.mark.parametrize("kind", [k for k in ALL if k.misp], ids=lambda k: k.name)
def test_misp_carries_it_as_the_kind_says(kind: IdentifierKind) -> None:
    form = kind.misp
    assert form is not None
    if form.template:
        relations = _template(form.template)["attributes"]
        assert form.typed_ids or form.relation in relations
        assert all(relation in relations for relation, _ in form.fixed)
    identifier = _identifier(kind)
    event = misp_event(_dossier([identifier]), None, synthetic=True)
    validate_misp(event)
    text = json.dumps(event)
    assert json.dumps(identifier["canonical"])[1:-1].split(":")[-1] in text or (
        kind.exported_as_received and identifier["values"][0] in text
    ), f"{kind.name}: not in the MISP event"


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_stix_carries_it_or_the_kind_says_it_does_not(kind: IdentifierKind) -> None:
    assert kind.stix is None or kind.stix in STIX_FORMS
    identifier = _identifier(kind)
    bundle = stix_bundle(_dossier([identifier]), None, "Unit", synthetic=True)
    carried = [o for o in bundle["objects"] if o["type"] not in {"identity", "grouping", "marking-definition"}]
    (person,) = [o for o in bundle["objects"] if o["type"] == "identity" and o["identity_class"] == "individual"]
    in_person = kind.stix is not None and kind.stix.startswith("identity.")
    assert bool(carried) == (kind.stix is not None and not in_person), kind.name
    if in_person:
        assert identifier["canonical"][-6:] in json.dumps(person), f"{kind.name}: not in the suspect's identity"
