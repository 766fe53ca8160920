"""Write a referral package: an editable Word file, a PDF, a JSON for machines, an Excel annex and the s.63
certificate, sealed as a BagIt bag (SHA-256 of every part, signed with the unit's key when it has one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tipfusion.documents.blocks import SYNTHETIC_BANNER, write_docx, write_pdf
from tipfusion.documents.certificate import CertificateFacts, parts_of, write_certificate
from tipfusion.documents.manifest import Sealed, bag_info, file_stem, fresh_folder, seal
from tipfusion.documents.render import Described, describe_xlsx
from tipfusion.documents.sheets import Column, about_sheet, banner, write_table
from tipfusion.keys.signing import Signer
from tipfusion.refer.dossier import Dossier
from tipfusion.refer.layout import Addressing, referral_spec
from tipfusion.refer.words import english

LOCAL = "local"  # a column in the display zone: its heading names the zone


def _annex_sheets(zone: str) -> list[tuple[str, str, list[Column]]]:
    """(sheet, dossier key, columns): headings for people, times as date-time cells (UTC, or the display zone)."""
    local = f"({zone})"
    return [
        (
            "Suspect as reported",
            "as_reported",
            [
                Column("suspect_id", "Suspect"),
                Column("field", "What"),
                Column("value", "As reported"),
                Column("details", "Details"),
                Column("role_label", "Whose"),
                Column("reports", "Reports"),
                Column("esps", "Company (ESP)"),
            ],
        ),
        (
            "Jurisdiction",
            "routing",
            [
                Column("suspect_id", "Suspect"),
                Column("station", "Station"),
                Column("district", "District"),
                Column("basis", "Basis"),
                Column("decided_by", "Routed by"),
                Column("confidence", "Confidence"),
                Column("network_id", "Network"),
                Column("deconfliction", "Deconfliction"),
            ],
        ),
        (
            "Identifiers",
            "identifiers",
            [
                Column("kind", "Kind"),
                Column("shown", "Shown"),
                Column("canonical", "Canonical"),
                Column("values", "Values as received"),
                Column("roles", "Whose (roles)"),
                Column("enrichment", "Enrichment"),
                Column("reports", "Reports"),
                Column("esps", "Companies (ESPs)"),
                Column("suspects", "Suspects"),
                Column("first_seen_utc", "First seen (UTC)", "utc"),
                Column("last_seen_utc", "Last seen (UTC)", "utc"),
                Column("valid", "Valid"),
                Column("flags", "Flags"),
            ],
        ),
        (
            "IP timeline",
            "ip_timeline",
            [
                Column("time_utc", "Time (UTC)", "utc"),
                Column("time_local", f"Time {local}", "local"),
                Column("times_as_received", "Time as received"),
                Column("ip", "IP"),
                Column("port", "Source port"),
                Column("event", "Event"),
                Column("isp", "ISP"),
                Column("identifiable", "Can an ISP name the subscriber?"),
                Column("identifiability", "Why"),
                Column("reports", "Reports"),
                Column("esps", "Companies (ESPs)"),
                Column("suspects", "Suspects"),
                Column("sightings", "Times reported"),
            ],
        ),
        (
            "Households",
            "households",
            [
                Column("line", "Home line (fixed IP)"),
                Column("enrichment", "Enrichment"),
                Column("suspects", "Suspects on the line"),
                Column("in_this_referral", "In this referral"),
                Column("elsewhere", "Not in this referral"),
                Column("reports", "Suspect: reports"),
                Column("note", "What it means"),
            ],
        ),
        (
            "Other people (not the suspect)",
            "other_parties",
            [
                Column("role_label", "Whose"),
                Column("kind", "Kind"),
                Column("canonical", "Value"),
                Column("values", "Values as received"),
                Column("reports", "Reports"),
                Column("esp", "Company (ESP)"),
                Column("in_reports_of", "In reports of suspect"),
                Column("provenance", "Where in the reports"),
            ],
        ),
        (
            "Files",
            "files",
            [
                Column("report_id", "Report"),
                Column("file_id", "File ID"),
                Column("details_documents", "fileDetails documents"),
                Column("file_name", "File name"),
                Column("original_file_name", "Original file name"),
                Column("hashes", "Hashes"),
                Column("uploaded_utc", "Uploaded (UTC)", "utc"),
                Column("uploaded_local", f"Uploaded {local}", "local"),
                Column("upload_ip", "Upload IP"),
                Column("relevance", "Relevance"),
                Column("classification", "Industry classification"),
                Column("annotations", "Annotations"),
                Column("viewed_by_esp", "Viewed by the company"),
                Column("publicly_available", "Publicly available"),
            ],
        ),
        (
            "Reports",
            "reports",
            [
                Column("report_id", "NCMEC report"),
                Column("suspect_id", "Suspect"),
                Column("esp", "Company (ESP)"),
                Column("incident_type", "Incident type"),
                Column("platform", "Platform"),
                Column("incident_at_utc", "Incident (UTC)", "utc"),
                Column("incident_at_local", f"Incident {local}", "local"),
                Column("received_utc", "Received by NCMEC (UTC)", "utc"),
                Column("ncmec_priority", "NCMEC priority"),
                Column("annotations", "Annotations"),
                Column("escalation", "Escalation"),
            ],
        ),
        (
            "ISP answers",
            "answers",
            [
                Column("answer_id", "Answer"),
                Column("report_id", "Report"),
                Column("ip", "IP"),
                Column("port", "Source port"),
                Column("time_utc", "Time (UTC)", "utc"),
                Column("subscriber_name", "Subscriber"),
                Column("address", "Address"),
                Column("pin", "PIN"),
                Column("phone", "Phone"),
                Column("alternate_phone", "Alternate phone"),
                Column("email", "Email"),
                Column("id_document", "ID document"),
                Column("connection_type", "Connection"),
            ],
        ),
    ]


def _words(vocabulary: str) -> Callable[[Any], Any]:
    def say(value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(english(vocabulary, str(v)) for v in value)
        return english(vocabulary, value) if isinstance(value, str) else value

    return say


# Codes said in words in the annex (the JSON part keeps the codes).
_SAID: dict[str, Callable[[Any], Any]] = {
    "field": _words("reported_field"),
    "basis": _words("basis"),
    "confidence": _words("confidence"),
    "kind": _words("kind"),
    "roles": _words("role"),
    "event": _words("event"),
    "identifiability": _words("identifiability"),
    "relevance": _words("relevance"),
    "annotations": _words("annotation"),
}


def write_annex(
    content: dict[str, Any],
    path: Path,
    synthetic: bool,
    about: list[tuple[str, str]] | None = None,
    described: Described | None = None,
) -> None:
    """One sheet per table of the referral, every row (the Word/PDF cut long tables), after an About sheet."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, key, columns in _annex_sheets(content.get("display_timezone", "local")):
        sheet = book.create_sheet(title)
        said = [_SAID.get(c.key) if c.kind == "text" else None for c in columns]
        write_table(
            sheet,
            columns,
            (
                [f(row.get(c.key)) if f else row.get(c.key) for f, c in zip(said, columns, strict=True)]
                for row in content[key]
            ),
        )
        if synthetic:
            banner(sheet, SYNTHETIC_BANNER)
    lines = list(about or [])
    lines.append(
        ("Times", f"Date-time cells are UTC where the heading says UTC, else {content.get('display_timezone')}")
    )
    about_sheet(book, "CyberTipline referral annex", lines, SYNTHETIC_BANNER if synthetic else "")
    describe_xlsx(book, described or Described("CyberTipline referral annex", ""))
    book.save(path)


@dataclass(frozen=True)
class Issuer:
    """Who seals a package: the certifying officer, the store its records come from, and the unit's key."""

    officer: str
    store: str
    signer: Signer | None = None


def write_package(
    dossier: Dossier,
    addressing: Addressing,
    folder: Path,
    synthetic: bool,
    issuer: Issuer,
    templates: Path | None = None,
) -> Sealed:
    """Write every part into `folder`, certify them, and seal the folder as a (signed) bag."""
    fresh_folder(folder)
    stem = file_stem(addressing.reference)
    spec = referral_spec(dossier, addressing, synthetic)
    names = [f"{stem}.docx", f"{stem}.pdf", f"{stem}.json", f"{stem}-annex.xlsx"]
    write_docx(spec, folder / names[0])
    write_pdf(spec, folder / names[1], templates)
    content = dossier.as_dict()
    machine = {
        "format": "tipfusion-referral/1",
        "reference": addressing.reference,
        "kind": addressing.kind,
        "parent_reference": addressing.parent_reference,
        "date_local": addressing.date.isoformat(),
        "from": asdict(addressing.unit),
        "to": {"station": addressing.station, "district": addressing.district},
        "synthetic": synthetic,
        "changes": addressing.changes,
        **content,
    }
    (folder / names[2]).write_text(json.dumps(machine, indent=1, ensure_ascii=False, default=str) + "\n", "utf-8")
    unit = addressing.unit
    write_annex(
        content,
        folder / names[3],
        synthetic,
        [
            ("Reference", addressing.reference),
            ("Title", spec.title),
            ("From", unit.name),
            ("Contact", "; ".join(x for x in (unit.address, unit.contact) if x)),
            ("To", addressing.station or addressing.district or "central unit"),
            ("Date", f"{addressing.date:%Y-%m-%d %H:%M} ({dossier.display_timezone})"),
        ],
        Described(
            f"Annex to referral {addressing.reference}",
            unit.name,
            spec.title,
            keywords=f"CyberTipline; referral; {addressing.reference}",
            category="Referral annex" + (" (SYNTHETIC DATA)" if synthetic else ""),
            created=addressing.date,
        ),
    )
    write_certificate(certificate_facts(dossier, addressing, issuer, folder, names, synthetic), folder, stem, templates)
    title = f"tipfusion {addressing.kind} referral to {addressing.station or addressing.district or 'the central unit'}"
    info = bag_info(title, addressing.reference, addressing.unit.name, f"{addressing.date:%Y-%m-%d}", synthetic)
    return seal(folder, info, issuer.signer)


def certificate_facts(
    dossier: Dossier, addressing: Addressing, issuer: Issuer, folder: Path, names: list[str], synthetic: bool
) -> CertificateFacts:
    """What the s.63 certificate states: the parts as written (each hashed), who certifies, from which store."""
    return CertificateFacts(
        reference=addressing.reference,
        title=f"{addressing.kind} referral package {addressing.reference}",
        produced=addressing.date,
        zone=dossier.display_timezone,
        officer=issuer.officer,
        unit=addressing.unit.name,
        store=issuer.store,
        parts=parts_of(folder, names),
        key_fingerprint=issuer.signer.fingerprint if issuer.signer else None,
        synthetic=synthetic,
    )
