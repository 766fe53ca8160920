"""Write a referral package: an editable Word file, a PDF, a JSON for machines, an Excel annex, and a manifest
with the SHA-256 of every part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tipfusion.documents.blocks import SYNTHETIC_BANNER, write_docx, write_pdf
from tipfusion.documents.manifest import write_manifest
from tipfusion.refer.dossier import Dossier
from tipfusion.refer.layout import Addressing, referral_spec

ANNEX_SHEETS: list[tuple[str, str, list[str]]] = [
    (
        "Identifiers",
        "identifiers",
        [
            "kind",
            "shown",
            "canonical",
            "values",
            "roles",
            "enrichment",
            "reports",
            "esps",
            "suspects",
            "first_seen_utc",
            "last_seen_utc",
            "valid",
            "flags",
        ],
    ),
    (
        "IP timeline",
        "ip_timeline",
        [
            "time_utc",
            "time_local",
            "time_as_received",
            "ip",
            "port",
            "event",
            "isp",
            "identifiable",
            "identifiability",
            "report_id",
            "esp",
            "suspect_id",
        ],
    ),
    (
        "Other people (not the suspect)",
        "other_parties",
        ["role_label", "kind", "canonical", "values", "reports", "esp", "in_reports_of", "provenance"],
    ),
    (
        "Files",
        "files",
        [
            "report_id",
            "file_id",
            "details_documents",
            "file_name",
            "original_file_name",
            "hashes",
            "uploaded_utc",
            "uploaded_local",
            "upload_ip",
            "relevance",
            "classification",
            "annotations",
            "viewed_by_esp",
            "publicly_available",
        ],
    ),
    (
        "Reports",
        "reports",
        [
            "report_id",
            "suspect_id",
            "esp",
            "incident_type",
            "platform",
            "incident_at_utc",
            "incident_at_local",
            "received_utc",
            "ncmec_priority",
            "annotations",
            "escalation",
        ],
    ),
    (
        "ISP answers",
        "answers",
        [
            "answer_id",
            "report_id",
            "ip",
            "port",
            "time_utc",
            "subscriber_name",
            "address",
            "pin",
            "phone",
            "alternate_phone",
            "email",
            "id_document",
            "connection_type",
        ],
    ),
]


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value


def write_annex(content: dict[str, Any], path: Path, synthetic: bool) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, key, fields in ANNEX_SHEETS:
        sheet = book.create_sheet(title)
        if synthetic:
            sheet.append([SYNTHETIC_BANNER])
        sheet.append(fields)
        for row in content[key]:
            sheet.append([_cell(row.get(f)) for f in fields])
        sheet.freeze_panes = "A3" if synthetic else "A2"
    book.save(path)


def write_package(
    dossier: Dossier,
    addressing: Addressing,
    folder: Path,
    synthetic: bool,
    templates: Path | None = None,
) -> tuple[dict[str, str], str]:
    """Write every part into `folder`; return file → SHA-256 and the manifest's own SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = addressing.reference.replace("/", "-")
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
        "from": addressing.unit,
        "to": {"station": addressing.station, "district": addressing.district},
        "synthetic": synthetic,
        "changes": addressing.changes,
        **content,
    }
    (folder / names[2]).write_text(json.dumps(machine, indent=1, ensure_ascii=False, default=str) + "\n", "utf-8")
    write_annex(content, folder / names[3], synthetic)
    about = {
        "package": "tipfusion referral",
        "reference": addressing.reference,
        "synthetic": synthetic,
        "verify": "sha256sum each file, or `tipfusion refer verify FOLDER`",
    }
    return write_manifest(folder, names, about)
