"""A network or referral for other agencies' tools: a MISP event (built with PyMISP, its objects checked against
the misp-objects templates) and a STIX 2.1 bundle (built with the stix2 library, which validates every object as
it is made).

Both carry metadata only — identifiers, hashes, times — and TLP:RED, since police intelligence is not for sharing
beyond the recipient.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tipfusion import clock
from tipfusion.errors import TipfusionError
from tipfusion.normalise.device import split_device
from tipfusion.normalise.hashes import HEX_LENGTHS
from tipfusion.normalise.kind import (
    STIX_CONTACT,
    STIX_DESCRIPTION,
    STIX_EMAIL,
    STIX_IP,
    STIX_LOGIN,
    STIX_URL,
    STIX_USER_ID,
    IdentifierKind,
)
from tipfusion.normalise.registry import KINDS
from tipfusion.refer.dossier import Dossier

# Device ID types (as the normaliser writes them) → relations of the misp-objects `phone` template.
PHONE_RELATIONS = {
    "IMEI": "imei",
    "ICCID": "iccid",
    "IMSI": "imsi",
    "MSISDN": "msisdn",
    "SERIAL": "serial-number",
    "SERIAL_NUMBER": "serial-number",
}
PHONE_TEXT = {"IMEISV", "MEID", "ESN"}  # handset IDs the template has no relation for
HASH_NAMES = {"MD5": ("md5", "MD5"), "SHA1": ("sha1", "SHA-1"), "SHA256": ("sha256", "SHA-256")}


def _typed_hashes(item: dict[str, Any], column: int) -> dict[str, str]:
    """A file's hashes under the other tool's names, only where the value fits its declared type: an ESP that sent
    a SHA-256 labelled SHA1 keeps it in the package (flagged), but MISP and STIX would refuse the whole export."""
    return {
        HASH_NAMES[k][column]: v
        for k, v in (item["hashes"] or {}).items()
        if k in HASH_NAMES and v and len(v) == HEX_LENGTHS[k] and all(c in "0123456789abcdef" for c in v.lower())
    }


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _as_received_url(identifier: dict[str, Any]) -> str | None:
    """A URL as the ESP gave it, scheme and all (the canonical form drops the scheme, which STIX requires)."""
    return next((v for v in identifier["values"] if "://" in v), None)


def _exported(kind: IdentifierKind, identifier: dict[str, Any]) -> str | None:
    """The value another tool receives: canonical, or as the ESP gave it where the kind says so (None: not had)."""
    return _as_received_url(identifier) if kind.exported_as_received else identifier["canonical"]


def _device_object(identifier: dict[str, Any], comment: str) -> Any:
    """One MISP object per device, each ID as the ESP sent it (a 15-digit IMEI keeps its check digit).

    A handset or SIM is a `phone` object: IMEI, ICCID, IMSI, MSISDN and serial number under the template's own
    relations, other handset IDs (IMEISV, MEID, ESN) in its `text`. Anything else (a MAC address, an advertising or
    platform ID) is a `device` object carrying each ID as an alias, and a MAC address also as `MAC-address`.
    """
    from pymisp import MISPObject

    parts = [split_device(value) for value in identifier["values"]]
    if any(id_type in PHONE_RELATIONS or id_type in PHONE_TEXT for id_type, _ in parts):
        record = MISPObject("phone", standalone=False)
        for id_type, value in parts:
            if id_type in PHONE_RELATIONS:
                record.add_attribute(PHONE_RELATIONS[id_type], value)
        others = [f"{id_type}:{value}" for id_type, value in parts if id_type not in PHONE_RELATIONS]
        if others:
            record.add_attribute("text", ", ".join(others))
    else:
        record = MISPObject("device", standalone=False)
        for id_type, value in parts:
            record.add_attribute("alias", f"{id_type}:{value}")
            mac = _mac(value) if id_type == "MAC" else None
            if mac:
                record.add_attribute("MAC-address", mac)
    first, last = _moment(identifier["first_seen_utc"]), _moment(identifier["last_seen_utc"])
    if first:
        record.first_seen = first
    if last:
        record.last_seen = last
    flags = ", ".join(identifier["flags"])
    record.comment = comment + (f"; flags {flags}" if flags else "")
    return record


def _mac(value: str) -> str | None:
    """`001A2B3C4D5E` → `00:1a:2b:3c:4d:5e` (the form MISP's mac-address type takes); None if it is not one."""
    digits = value.replace(":", "").replace("-", "").replace(".", "").lower()
    if len(digits) != 12 or any(c not in "0123456789abcdef" for c in digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def misp_event(dossier: Dossier, reference: str | None, synthetic: bool) -> dict[str, Any]:
    from pymisp import MISPAttribute, MISPEvent, MISPObject

    event = MISPEvent(strict_validation=True)
    subject = f"{dossier.subject_type} {dossier.subject_id}"
    event.info = f"tipfusion {reference or subject}: CyberTipline {subject}" + (
        " [SYNTHETIC DATA]" if synthetic else ""
    )
    event.distribution = 0  # this organisation only
    event.threat_level_id = 1
    event.analysis = 1
    event.add_tag("tlp:red")
    if synthetic:
        event.add_tag("tipfusion:synthetic")
    for identifier in dossier.identifiers:
        kind, value = identifier["kind"], identifier["canonical"]
        comment = f"reports {', '.join(str(r) for r in identifier['reports'][:10])}; suspects " + ", ".join(
            identifier["suspects"]
        )
        known = KINDS.get(kind)
        form = known.misp if known else None
        if known is None or form is None:
            continue
        if form.typed_ids:
            event.add_object(_device_object(identifier, comment))
        elif form.attribute:
            attribute = event.add_attribute(
                form.attribute, _exported(known, identifier) or value, comment=comment, to_ids=False
            )
            assert isinstance(attribute, MISPAttribute)
            first, last = _moment(identifier["first_seen_utc"]), _moment(identifier["last_seen_utc"])
            if form.seen and first:
                attribute.first_seen = first
            if form.seen and last:
                attribute.last_seen = last
        elif form.template and form.relation:
            record = MISPObject(form.template, standalone=False)
            record.add_attribute(form.relation, value)
            for relation, fixed in form.fixed:
                record.add_attribute(relation, fixed)
            record.comment = f"{kind}; {comment}"
            event.add_object(record)
    for sighting in dossier.ip_timeline:
        if sighting["port"] is None or not sighting["time_utc"]:
            continue
        seen = MISPObject("ip-port", standalone=False)
        seen.add_attribute("ip-src", sighting["ip"])
        seen.add_attribute("src-port", sighting["port"])
        seen.add_attribute("first-seen", sighting["time_utc"])
        seen.comment = (
            f"{sighting['event'] or 'event'} in report(s) {', '.join(str(r) for r in sighting['reports'])} "
            f"({', '.join(sighting['esps'])})"
        )
        event.add_object(seen)
    for item in dossier.files:
        hashes = _typed_hashes(item, 0)
        if not hashes:
            continue
        record = MISPObject("file", standalone=False)
        if item["file_name"]:
            record.add_attribute("filename", item["file_name"])
        for relation, value in sorted(hashes.items()):
            record.add_attribute(relation, value)
        record.comment = f"report {item['report_id']}; metadata only, no file held" + (
            "; NOT viewed by the ESP" if item["viewed_by_esp"] is False else ""
        )
        event.add_object(record)
    return {"Event": json.loads(event.to_json())}  # the envelope MISP's "add event from JSON" expects


def validate_misp(document: dict[str, Any]) -> None:
    """Refuse an event MISP would refuse or misread: it is loaded back through PyMISP (which refuses an attribute
    type MISP does not know), and every object is checked against its misp-objects template as PyMISP ships it
    (see `misp_object_problems`). PyMISP's strict event JSON schema has no place for objects at all, so it is not
    what checks them."""
    from pymisp import MISPEvent

    MISPEvent(strict_validation=True).load(json.dumps(document))
    problems = [p for item in document["Event"].get("Object", []) for p in misp_object_problems(item)]
    if problems:
        raise TipfusionError("the MISP export does not fit the misp-objects templates: " + "; ".join(problems))


def misp_object_problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with one MISP object against its template: the template must exist, every relation must be one
    of the template's with the template's attribute type, required relations present, single ones not repeated."""
    from pymisp import MISPObject
    from pymisp.exceptions import PyMISPError

    name = str(item.get("name"))
    try:
        checked = MISPObject(name, strict=True)
    except PyMISPError:
        return [f"object {name!r}: no such misp-objects template"]
    relations = json.loads((checked.misp_objects_path / name / "definition.json").read_text("utf-8"))["attributes"]
    problems = []
    for attribute in item.get("Attribute", []):
        relation, kind = attribute.get("object_relation"), attribute.get("type")
        if relation not in relations:
            problems.append(f"object {name!r}: relation {relation!r} is not in the template")
        elif kind != relations[relation]["misp-attribute"]:
            problems.append(
                f"object {name!r}: {relation} is {kind!r}, the template says {relations[relation]['misp-attribute']!r}"
            )
    if problems:
        return problems
    try:
        checked.from_dict(**item)
        checked.to_dict(strict=True)  # PyMISP's own check: required and requiredOneOf present, no repeated singles
    except PyMISPError as exc:
        problems.append(f"object {name!r}: {exc}")
    return problems


def stix_bundle(dossier: Dossier, reference: str | None, unit: str, synthetic: bool) -> dict[str, Any]:
    import stix2

    created = clock.now()
    author = stix2.Identity(name=unit, identity_class="organization", created=created, modified=created)
    marking = [stix2.TLP_RED]
    objects: list[Any] = [author]
    people: dict[str, Any] = {}
    stix_of = {name: kind.stix for name, kind in KINDS.items()}
    for suspect in dossier.suspects:
        held = [i for i in dossier.identifiers if suspect in i["suspects"]]
        phones = [i["canonical"] for i in held if stix_of.get(i["kind"]) == STIX_CONTACT]
        # STIX 2.1 has no observable for a handset or SIM: its IDs, as received, go in the description
        devices = [i["shown"] for i in held if stix_of.get(i["kind"]) == STIX_DESCRIPTION]
        people[suspect] = stix2.Identity(
            name=f"Suspect {suspect}",
            identity_class="individual",
            description="A person identified by tipfusion's link analysis (not yet named)"
            + (f"; devices {', '.join(devices)}" if devices else ""),
            contact_information="; ".join(phones) or None,
            created_by_ref=author,
            object_marking_refs=marking,
        )
    objects += people.values()
    observed: list[Any] = []
    relationships: list[Any] = []
    for identifier in dossier.identifiers:
        known = KINDS.get(identifier["kind"])
        value = _exported(known, identifier) if known else None
        form = known.stix if known else None
        sco: Any = None
        if value is None:
            pass
        elif form == STIX_EMAIL:
            sco = stix2.EmailAddress(value=value)
        elif form == STIX_IP:
            sco = stix2.IPv6Address(value=value) if ":" in value else stix2.IPv4Address(value=value)
        elif form == STIX_URL:
            sco = stix2.URL(value=value)
        elif form == STIX_USER_ID:
            sco = stix2.UserAccount(user_id=value)
        elif form == STIX_LOGIN:
            sco = stix2.UserAccount(account_login=value)
        if sco is None:
            continue
        observed.append(sco)
        for suspect in identifier["suspects"]:
            relationships.append(
                stix2.Relationship(
                    people[suspect],
                    "related-to",
                    sco,
                    description=f"seen in reports {', '.join(str(r) for r in identifier['reports'][:10])}",
                    created_by_ref=author,
                    object_marking_refs=marking,
                )
            )
    for item in dossier.files:
        hashes = _typed_hashes(item, 1)
        if hashes:
            observed.append(stix2.File(name=item["file_name"] or None, hashes=hashes))
    objects += observed
    objects += relationships
    grouping = stix2.Grouping(
        name=f"tipfusion {reference or dossier.subject_id}" + (" [SYNTHETIC DATA]" if synthetic else ""),
        context="suspicious-activity",
        description=f"CyberTipline {dossier.subject_type} {dossier.subject_id}: {len(dossier.reports)} reports, "
        f"{len(dossier.suspects)} suspects. Metadata only.",
        object_refs=[o.id for o in objects],
        created_by_ref=author,
        object_marking_refs=marking,
        labels=["synthetic"] if synthetic else None,
    )
    bundle = stix2.Bundle(objects=[*objects, grouping, stix2.TLP_RED], allow_custom=False)
    result: dict[str, Any] = json.loads(bundle.serialize())
    return result
