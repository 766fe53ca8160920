"""How a referral reads: the dossier laid out as bilingual (English/Hindi) blocks, for Word and PDF alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tipfusion.documents.blocks import Block, DocumentSpec, Grid, Heading, Para
from tipfusion.refer.dossier import Dossier

ROWS_IN_DOCUMENT = 80  # longer tables are cut in Word/PDF with a note; the JSON and the annex hold every row


@dataclass(frozen=True)
class Addressing:
    reference: str
    date: datetime  # in the display zone
    unit: str
    station: str | None
    district: str | None
    signatory: str
    kind: str  # initial | supplementary
    parent_reference: str | None = None
    changes: dict[str, list[str]] | None = None


def _cut(rows: list[list[str]], what: str) -> tuple[list[list[str]], str]:
    if len(rows) <= ROWS_IN_DOCUMENT:
        return rows, ""
    return rows[:ROWS_IN_DOCUMENT], (
        f"{len(rows) - ROWS_IN_DOCUMENT} more {what} in the JSON part and the Excel annex of this package."
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def destination(addressing: Addressing) -> str:
    if addressing.station:
        return f"The Station House Officer, {addressing.station}, District {addressing.district}"
    if addressing.district:
        return f"The Deputy Commissioner of Police, District {addressing.district}"
    return "The Central Cyber Unit (needs subscriber details before it can go to a station)"


def referral_spec(dossier: Dossier, addressing: Addressing, synthetic: bool) -> DocumentSpec:
    subject = "network" if dossier.subject_type == "network" else "suspect"
    title = (
        f"Referral {addressing.reference}: CyberTipline reports concerning {subject} {dossier.subject_id}"
        if addressing.kind == "initial"
        else f"Supplementary referral {addressing.reference} to {addressing.parent_reference}"
    )
    blocks: list[Block] = [
        Para(
            f"No. {addressing.reference}    Date: {addressing.date:%d.%m.%Y %H:%M} ({dossier.display_timezone})",
            style="meta",
        ),
        Para(f"From: {addressing.unit}    To: {destination(addressing)}", style="meta"),
        Para(
            f"Subject: registration of a case on CyberTipline reports ({len(dossier.reports)} reports, "
            f"{len(dossier.suspects)} suspect(s)) — IT Act s.67B / POCSO Act ss.13-15",
            "विषय: साइबरटिपलाइन रिपोर्टों पर अभियोग पंजीकरण हेतु",
        ),
    ]
    if dossier.files_not_viewed:
        blocks.append(
            Para(
                f"CAUTION: {dossier.files_not_viewed} file(s) were NOT viewed by the reporting company. "
                "Do not open them without legal authority.",
                "सावधानी: कुछ फ़ाइलें रिपोर्ट करने वाली कंपनी द्वारा देखी नहीं गई थीं। विधिक अधिकार के बिना इन्हें न खोलें।",
                style="warning",
            )
        )
    if addressing.kind == "supplementary" and addressing.changes is not None:
        blocks.append(Heading("What changed since the last package", "पिछले पैकेज के बाद परिवर्तन"))
        rows = [
            [what, ", ".join(values[:50]) + (" …" if len(values) > 50 else "")]
            for what, values in addressing.changes.items()
            if values
        ]
        blocks.append(Grid(["What", "New since " + (addressing.parent_reference or "")], rows or [["nothing", ""]]))

    blocks.append(Heading("Summary", "सारांश"))
    priority = dossier.priority or {}
    blocks.append(
        Para(
            f"Why this {subject}: priority score {priority.get('score', 'not scored')}"
            + (" (pinned by an analyst)" if priority.get("pinned") else "")
            + f"; {len(dossier.reports)} report(s) from "
            + ", ".join(sorted({r["esp"] for r in dossier.reports if r["esp"]}))
            + f"; {len(dossier.identifiers)} distinct identifier(s); {len(dossier.ip_timeline)} IP sighting(s), "
            f"{sum(1 for t in dossier.ip_timeline if t['identifiable'])} identifiable; "
            f"{len(dossier.answers)} ISP answer(s) received."
        )
    )
    factors = priority.get("factors") or []
    if factors:
        blocks.append(
            Grid(
                ["Factor", "Points", "Why"],
                [[str(f[0]), f"{f[1]:g}", _text(f[2])] for f in factors],
                widths=(20, 8, 72),
            )
        )
    if dossier.network:
        network = dossier.network
        held = network.get("links_by_kind") or {}
        shared = "; ".join(f"{v['kind']} {v['value']}" for v in network.get("key_shared_values", [])[:5])
        blocks.append(
            Para(
                f"Network {network['network_id']}: {network.get('suspect_count')} suspects, "
                f"{network.get('report_count')} reports, {network.get('first_incident') or '?'} … "
                f"{network.get('last_incident') or '?'}"
                + (f"; held together by {_text(held)}" if held else "")
                + (f"; key shared values: {shared}" if shared else "")
                + "."
            )
        )
    blocks.append(Heading("Jurisdiction", "क्षेत्राधिकार"))
    blocks.append(
        Grid(
            ["Suspect", "District", "Station", "Basis", "Confidence", "Network", "Deconfliction"],
            [
                [
                    r["suspect_id"],
                    r["district"] or "",
                    r["station"] or "",
                    r["basis"],
                    r["confidence"],
                    (r["network_id"] or "") + (" (spans districts)" if r["network_central"] else ""),
                    "; ".join(r["deconfliction"]),
                ]
                for r in dossier.routing
            ],
            widths=(11, 9, 11, 16, 8, 14, 31),
        )
    )

    blocks.append(Heading("Standard statements", "मानक कथन"))
    for statement in dossier.statements:
        blocks.append(Para(statement["text"], statement["hindi"]))
    if dossier.sections:
        blocks.append(Heading("Suggested legal sections", "सुझाई गई धाराएँ"))
        blocks.append(
            Grid(["Section", "Why", "धारा"], [[s["section"], s["why"], s["hindi"]] for s in dossier.sections])
        )

    # Tables pair related values in one cell (two lines): a PDF costs about a millisecond per cell, and a network's
    # package has thousands of them. Every value is still shown; the annex has them in separate columns.
    blocks.append(Heading("Identifiers", "पहचानकर्ता"))
    rows, note = _cut(
        [
            [
                f"{i['shown']}\n{i['kind']}",
                i["enrichment"],
                _text(i["reports"][:8]) + (" …" if len(i["reports"]) > 8 else "") + f"\n{_text(i['esps'])}",
                "\n".join(dict.fromkeys(x for x in (i["first_seen_utc"], i["last_seen_utc"]) if x)),
            ]
            for i in dossier.identifiers
            if i["kind"] not in ("file_hash",)
        ],
        "identifiers",
    )
    blocks.append(Grid(["Value / kind", "Enrichment", "Reports / ESP", "Seen (UTC)"], rows, note, (29, 30, 22, 19)))

    blocks.append(Heading("IP timeline", "आईपी समयरेखा"))
    rows, note = _cut(
        [
            [
                f"{t['time_utc'] or ''}\n{t['time_local'] or ''}",
                f"{t['ip']}\nport {'none' if t['port'] is None else t['port']}",
                f"{t['event'] or ''}\nreport {t['report_id']}",
                t["isp"] or "",
                ("yes" if t["identifiable"] else ("no" if t["identifiable"] is False else "?"))
                + (f": {t['identifiability']}" if t["identifiability"] else ""),
            ]
            for t in dossier.ip_timeline
        ],
        "sightings",
    )
    blocks.append(
        Grid(
            [
                f"Time (UTC / {dossier.display_timezone})",
                "IP / source port",
                "Event / report",
                "ISP",
                "Can an ISP name?",
            ],
            rows,
            note,
            (20, 20, 14, 16, 30),
        )
    )

    if dossier.other_parties:
        # other people's values, apart: a recipient may be another suspect (network evidence), a victim is a
        # safeguarding fact; none of them is an identifier of the suspect
        blocks.append(
            Heading("Other people in these reports — NOT the suspect's identifiers", "अन्य व्यक्ति — संदिग्ध के नहीं")
        )
        rows, note = _cut(
            [
                [
                    f"{o['role_label']}\n{o['kind']}",
                    o["canonical"],
                    _text(o["reports"][:8]) + (" …" if len(o["reports"]) > 8 else "") + f"\n{o['esp']}",
                ]
                for o in dossier.other_parties
            ],
            "values",
        )
        blocks.append(Grid(["Whose / kind", "Value", "Reports / ESP"], rows, note, (30, 45, 25)))

    blocks.append(Heading("Files (metadata only; no media is held)", "फ़ाइलें (केवल मेटाडेटा)"))
    rows, note = _cut(
        [
            [
                f"{f['file_name'] or ''}\nreport {f['report_id']}",
                _text(f["hashes"]).replace(", ", "\n"),
                "\n".join(x for x in (f["relevance"] or "", _text(f["annotations"])) if x),
                "\n".join(x for x in (f["upload_ip"] or "", f["uploaded_utc"] or "") if x),
                "NOT VIEWED" if f["viewed_by_esp"] is False else _text(f["viewed_by_esp"]),
            ]
            for f in dossier.files
        ],
        "files",
    )
    blocks.append(
        Grid(
            ["File / report", "Hashes", "Relevance / annotations", "Upload IP / time (UTC)", "Viewed by ESP"],
            rows,
            note,
            (18, 40, 16, 17, 9),
        )
    )

    blocks.append(Heading("Linked reports", "संबद्ध रिपोर्टें"))
    blocks.append(
        Grid(
            ["NCMEC report / suspect", "ESP / incident type", "Incident (UTC)", "Annotations / escalation"],
            [
                [
                    f"{r['report_id']}\n{r['suspect_id']}",
                    f"{r['esp'] or ''}\n{r['incident_type'] or ''}",
                    r["incident_at_utc"] or "",
                    "\n".join(x for x in (_text(r["annotations"]), r["escalation"] or "") if x),
                ]
                for r in dossier.reports
            ],
            widths=(16, 34, 16, 34),
        )
    )

    blocks.append(Heading("ISP answers received", "आईएसपी से प्राप्त उत्तर"))
    if dossier.answers:
        blocks.append(
            Grid(
                ["IP", "Port", "Time (UTC)", "Subscriber", "Address", "Phone", "Email", "ID document", "Connection"],
                [
                    [
                        a["ip"],
                        "" if a["port"] is None else str(a["port"]),
                        a["time_utc"] or "",
                        a["subscriber_name"] or "",
                        " ".join(x for x in (a["address"], a["pin"]) if x),
                        " / ".join(x for x in (a["phone"], a["alternate_phone"]) if x),
                        a["email"] or "",
                        a["id_document"],
                        a["connection_type"] or "",
                    ]
                    for a in dossier.answers
                ],
            )
        )
    else:
        blocks.append(Para("None yet.", "अभी तक कोई नहीं।"))
    if dossier.requests:
        blocks.append(
            Grid(
                ["Request", "Recipient", "Status", "Items", "Due (UTC)"],
                [
                    [r["reference"], r["recipient"], r["status"], str(r["items"]), r["due_utc"] or ""]
                    for r in dossier.requests
                ],
            )
        )

    blocks.append(Heading("Checklist for the station", "थाने हेतु कार्य सूची"))
    blocks.append(
        Grid(
            ["#", "Task", "Due"],
            [[str(n), c["task"], c["due"]] for n, c in enumerate(dossier.checklist, 1)],
            widths=(4, 70, 26),
        )
    )
    blocks.append(Para(addressing.signatory, style=""))
    blocks.append(
        Para(
            "This package is sealed by its manifest.json (SHA-256 of every part); `tipfusion refer verify FOLDER` "
            "proves it unaltered.",
            style="small",
        )
    )
    return DocumentSpec(title, addressing.reference, blocks, synthetic, landscape=False)
