"""How a referral reads: the dossier laid out as bilingual (English/Hindi) blocks, for Word and PDF alike.

A station officer acts on it without calling the unit: who the suspect is as reported and where (the address the
referral was routed by) come first; codes are said in words; times are to the second with their zone; the checklist
and the signature say whom to answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tipfusion.config import UnitProfile
from tipfusion.documents.blocks import Block, DocumentSpec, Grid, Heading, Para
from tipfusion.documents.clock import clock
from tipfusion.documents.manifest import key_footer, key_line
from tipfusion.documents.render import Described
from tipfusion.refer.dossier import Dossier
from tipfusion.refer.words import answer, both, english, hindi, words

ROWS_IN_DOCUMENT = 80  # longer tables are cut in Word/PDF with a note; the JSON and the annex hold every row
AS_REPORTED_ROWS = 30  # per suspect: a network's package lists every member


@dataclass(frozen=True)
class Addressing:
    reference: str
    date: datetime  # in the display zone
    unit: UnitProfile
    station: str | None
    district: str | None
    kind: str  # initial | supplementary
    parent_reference: str | None = None
    changes: dict[str, list[str]] | None = None
    key_fingerprint: str | None = None  # the unit's signing key, printed so a station can check the signature


def _cut(rows: list[list[str]], what: str, limit: int = ROWS_IN_DOCUMENT) -> tuple[list[list[str]], str]:
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], f"{len(rows) - limit} more {what} in the JSON part and the Excel annex of this package."


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


def _few(values: Iterable[Any], most: int = 8) -> str:
    shown = list(values)
    return _text(shown[:most]) + (" …" if len(shown) > most else "")


def _numbered(noun: str, values: list[Any], most: int = 8) -> str:
    return f"{noun}{'s' if len(values) > 1 else ''} {_few(values, most)}"


def destination(addressing: Addressing) -> str:
    if addressing.station:
        return f"The Station House Officer, {addressing.station}, District {addressing.district}"
    if addressing.district:
        return f"The Deputy Commissioner of Police, District {addressing.district}"
    return "The Central Cyber Unit (needs subscriber details before it can go to a station)"


def routed_by(decision: dict[str, Any]) -> Para:
    """Where a suspect was routed, on what basis and by which evidence: the address itself, with its report. A suspect
    whose network spans districts is the central unit's to place whatever its own routing says (`route.placement`):
    the line says so first, and its own routing after, so that no station reads it as routed to itself."""
    place = decision["station"] or (f"District {decision['district']}" if decision["district"] else "the central unit")
    basis_en, basis_hi = words("basis", decision["basis"])
    evidence = _evidence(decision, "; ")
    own_en = f"{place} by {basis_en} (confidence {english('confidence', decision['confidence'])})" + (
        f": {evidence}" if evidence else ""
    )
    basis = f"आधार: {basis_hi} (विश्वसनीयता {hindi('confidence', decision['confidence'])})"
    if decision.get("network_central"):
        network = decision.get("network_id") or "its network"
        return Para(
            f"Held by the central unit: network {network} spans districts (own routing: {own_en})",
            f"केंद्रीय इकाई के पास: नेटवर्क {network} कई ज़िलों में फैला है (अपना रूटिंग: {place}; {basis})",
        )
    return Para(f"Routed to {own_en}", f"{place} को भेजा गया; {basis}")


def _evidence(decision: dict[str, Any], between: str, most: int = 4) -> str:
    """What a decision went by, the first few (the JSON and the annex hold every one)."""
    shown = list(dict.fromkeys(decision.get("decided_by") or []))
    more = f"{between}… {len(shown) - most} more" if len(shown) > most else ""
    return between.join(shown[:most]) + more


def _letterhead(addressing: Addressing, zone: str) -> list[Block]:
    unit = addressing.unit
    sender = "\n".join(x for x in (unit.name, unit.address, unit.contact) if x)
    return [
        Para(f"No. {addressing.reference}    Date: {addressing.date:%d.%m.%Y %H:%M} ({zone})", style="meta"),
        Para(f"From: {sender}", style="lines"),
        Para(f"To: {destination(addressing)}", style="lines"),
    ]


def signature(unit: UnitProfile) -> Para:
    """The officer in charge, the unit and how to reach it: who a station answers and calls back."""
    lines = [unit.officer_name, unit.officer_designation, unit.name, unit.address, unit.contact]
    return Para("\n".join(x for x in lines if x), style="signature")


def seal_footer(key_fingerprint: str | None) -> list[Block]:
    line_en, line_hi = key_line(key_fingerprint)
    return [
        Para(
            "This package is a BagIt bag: manifest-sha256.txt lists the SHA-256 of every part "
            "(`sha256sum -c manifest-sha256.txt` in the package folder, or `tipfusion refer verify FOLDER`), "
            "and manifest-sha256.txt.sig is its Ed25519 signature. Check that the fingerprint below is the one "
            "the unit published.",
            style="small",
        ),
        Para(line_en, line_hi, style="small"),
    ]


def referral_spec(dossier: Dossier, addressing: Addressing, synthetic: bool) -> DocumentSpec:
    subject = "network" if dossier.subject_type == "network" else "suspect"
    title = (
        f"Referral {addressing.reference}: CyberTipline reports concerning {subject} {dossier.subject_id}"
        if addressing.kind == "initial"
        else f"Supplementary referral {addressing.reference} to {addressing.parent_reference}"
    )
    blocks = _letterhead(addressing, dossier.display_timezone)
    if dossier.subject_type != "network":
        blocks += [routed_by(r) for r in dossier.routing]
    blocks.append(
        Para(
            f"Subject: registration of a case on CyberTipline reports ({len(dossier.reports)} reports, "
            f"{len(dossier.suspects)} suspect(s)) — IT Act s.67B / POCSO Act ss.13-15",
            "विषय: साइबरटिपलाइन रिपोर्टों पर अभियोग पंजीकरण हेतु",
        )
    )
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
        rows = [[what, _few(values, 50)] for what, values in addressing.changes.items() if values]
        blocks.append(Grid(["What", "New since " + (addressing.parent_reference or "")], rows or [["nothing", ""]]))
    blocks += _as_reported(dossier)
    blocks += _summary(dossier, subject)
    blocks += _jurisdiction(dossier)
    blocks += _guidance(dossier)
    blocks += _identifiers(dossier)
    blocks += _timeline(dossier)
    blocks += _households(dossier)
    blocks += _others(dossier)
    blocks += _files(dossier)
    blocks += _reports(dossier)
    blocks += _answers(dossier)
    blocks += _checklist(dossier)
    blocks.append(signature(addressing.unit))
    blocks.extend(seal_footer(addressing.key_fingerprint))
    about = Described(
        title=title,
        author=addressing.unit.name,
        subject=f"CyberTipline referral to {addressing.station or addressing.district or 'the central unit'}",
        keywords=f"CyberTipline; referral; {addressing.reference}; {dossier.subject_id}",
        category="Referral" + (" (SYNTHETIC DATA)" if synthetic else ""),
        created=addressing.date,
    )
    footer = key_footer(addressing.key_fingerprint)
    return DocumentSpec(title, addressing.reference, blocks, synthetic, landscape=False, about=about, footer=footer)


def _as_reported(dossier: Dossier) -> list[Block]:
    """Who and where: the suspect as the companies reported them, per suspect, before anything else."""
    blocks: list[Block] = [
        Heading("Suspect as reported", "रिपोर्ट के अनुसार संदिग्ध"),
        Para(
            "As the reporting companies gave them, from the reported person's account and the accounts associated "
            "with it; not verified. Other people in the reports (recipients, victims) are listed apart below.",
            "जैसा रिपोर्ट करने वाली कंपनियों ने बताया (रिपोर्ट किए गए व्यक्ति और उससे संबद्ध खातों से); असत्यापित। "
            "रिपोर्टों के अन्य व्यक्ति (प्राप्तकर्ता, पीड़ित) नीचे अलग सूचीबद्ध हैं।",
            style="small",
        ),
    ]
    by_suspect: dict[str, list[dict[str, Any]]] = {s: [] for s in dossier.suspects}
    for row in dossier.as_reported:
        by_suspect.setdefault(row["suspect_id"], []).append(row)
    decisions = {r["suspect_id"]: r for r in dossier.routing}
    network = dossier.subject_type == "network"
    for suspect, rows in by_suspect.items():
        if network:
            blocks.append(Heading(f"Suspect {suspect}", "संदिग्ध", level=3))
            if suspect in decisions:
                blocks.append(routed_by(decisions[suspect]))
        if not rows:
            blocks.append(Para("No name, address or contact was reported.", "कोई नाम, पता या संपर्क नहीं दिया गया।"))
            continue
        cells, note = _cut(
            [
                [
                    both("reported_field", r["field"], " / "),
                    r["value"] + (f"\n{'; '.join(r['details'])}" if r["details"] else ""),
                    f"{r['role_label']}\n{_numbered('report', r['reports'], 5)} ({_text(r['esps'])})",
                ]
                for r in rows
            ],
            "values",
            AS_REPORTED_ROWS,
        )
        headers = ["What / क्या", "As reported / जैसा बताया गया", "Whose, report (company) / किसका, रिपोर्ट"]
        blocks.append(Grid(headers, cells, note, (16, 48, 36)))
    return blocks


def _summary(dossier: Dossier, subject: str) -> list[Block]:
    blocks: list[Block] = [Heading("Summary", "सारांश")]
    priority = dossier.priority or {}
    identifiable = sum(1 for t in dossier.ip_timeline if t["identifiable"])
    blocks.append(
        Para(
            f"Why this {subject}: priority score {priority.get('score', 'not scored')}"
            + (" (pinned by an analyst)" if priority.get("pinned") else "")
            + f"; {len(dossier.reports)} report(s) from "
            + ", ".join(sorted({r["esp"] for r in dossier.reports if r["esp"]}))
            + f"; {len(dossier.identifiers)} distinct identifier(s); {len(dossier.ip_timeline)} IP sighting(s), "
            f"{identifiable} identifiable; {len(dossier.answers)} ISP answer(s) received."
        )
    )
    factors = priority.get("factors") or []
    if factors:
        blocks.append(
            Grid(
                ["Factor / कारक", "Points", "Why"],
                [[both("factor", str(f[0])), f"{f[1]:g}", _why(str(f[0]), f[2])] for f in factors],
                widths=(34, 8, 58),
            )
        )
    if dossier.network:
        network = dossier.network
        held = network.get("links_by_kind") or {}
        shared = "; ".join(
            f"{english('kind', v['kind'])} {v['value']}" for v in network.get("key_shared_values", [])[:5]
        )
        blocks.append(
            Para(
                f"Network {network['network_id']}: {network.get('suspect_count')} suspects, "
                f"{network.get('report_count')} reports, {clock(network.get('first_incident')) or '?'} … "
                f"{clock(network.get('last_incident')) or '?'}"
                + (f"; held together by {_text(held)}" if held else "")
                + (f"; key shared values: {shared}" if shared else "")
                + "."
            )
        )
    return blocks


def _why(factor: str, why: Any) -> str:
    """A factor's reason, with annotation codes in words."""
    if factor == "most_urgent_report":
        return f"report {why}"
    if factor in ("contact_annotation", "harm_annotations"):
        return ", ".join(english("annotation", name.strip()) for name in str(why).split(","))
    return _text(why)


def _jurisdiction(dossier: Dossier) -> list[Block]:
    if not dossier.routing:
        return [
            Heading("Jurisdiction", "क्षेत्राधिकार"),
            Para("Not routed yet: the central unit holds it.", "अभी किसी थाने को नहीं भेजा गया: केंद्रीय इकाई के पास है।"),
        ]
    return [
        Heading("Jurisdiction", "क्षेत्राधिकार"),
        Grid(
            ["Suspect", "Station / district", "Basis: routed by", "Confidence", "Network", "Deconfliction"],
            [
                [
                    r["suspect_id"],
                    "\n".join(x for x in (r["station"], r["district"] and f"District {r['district']}") if x),
                    "\n".join(x for x in (both("basis", r["basis"]), _evidence(r, "\n")) if x),
                    both("confidence", r["confidence"]),
                    (r["network_id"] or "") + (" (spans districts)" if r["network_central"] else ""),
                    "; ".join(r["deconfliction"]),
                ]
                for r in dossier.routing
            ],
            widths=(12, 14, 32, 10, 12, 20),
        ),
    ]


def _guidance(dossier: Dossier) -> list[Block]:
    blocks: list[Block] = [Heading("Standard statements", "मानक कथन")]
    blocks += [Para(s["text"], s["hindi"]) for s in dossier.statements]
    if dossier.sections:
        blocks.append(Heading("Suggested legal sections", "सुझाई गई धाराएँ"))
        blocks.append(
            Grid(
                ["Section", "Why", "धारा"],
                [[s["section"], s["why"], s["hindi"]] for s in dossier.sections],
                widths=(22, 50, 28),
            )
        )
    return blocks


# Tables pair related values in one cell (two lines): a PDF costs about a millisecond per cell, and a network's
# package has thousands of them. Every value is still shown; the annex has them in separate columns.
def _identifiers(dossier: Dossier) -> list[Block]:
    rows, note = _cut(
        [
            [
                f"{i['shown']}\n{english('kind', i['kind'])}",
                i["enrichment"],
                f"{_few(i['reports'])}\n{_text(i['esps'])}",
                "\n".join(dict.fromkeys(clock(x) for x in (i["first_seen_utc"], i["last_seen_utc"]) if x)),
            ]
            for i in dossier.identifiers
            if i["kind"] not in ("file_hash",)
        ],
        "identifiers",
    )
    return [
        Heading("Identifiers", "पहचानकर्ता"),
        Grid(["Value / kind", "Enrichment", "Reports / company", "Seen first / last"], rows, note, (29, 30, 19, 22)),
    ]


def _timeline(dossier: Dossier) -> list[Block]:
    zone = ZoneInfo(dossier.display_timezone)
    rows, note = _cut(
        [
            [
                f"{clock(t['time_utc'])}\n{clock(t['time_utc'], zone)}",
                f"{t['ip']}\nport {'none' if t['port'] is None else t['port']}",
                f"{english('event', t['event'])}\n{_numbered('report', t['reports'], 5)}",
                t["isp"] or "",
                _identifiability(t),
            ]
            for t in dossier.ip_timeline
        ],
        "sightings",
    )
    return [
        Heading("IP timeline", "आईपी समयरेखा"),
        Para(
            "One row per sighting (the same IP, port, second and event reported more than once is one row, with "
            "every report).",
            style="small",
        ),
        Grid(
            ["Time (UTC / local)", "IP / source port", "Event / reports", "ISP", "Can an ISP name the subscriber?"],
            rows,
            note,
            (23, 20, 17, 14, 26),
        ),
    ]


def _identifiability(sighting: dict[str, Any]) -> str:
    yes_no = answer(sighting["identifiable"])
    english_words, hindi_words = words("identifiability", sighting["identifiability"])
    return (
        f"{english('answer', yes_no)}" + (f": {english_words}" if english_words else "") + "\n"
        f"{hindi('answer', yes_no)}" + (f": {hindi_words}" if hindi_words else "")
    )


def _households(dossier: Dossier) -> list[Block]:
    """Home lines shared with suspects linking kept apart: one address to visit, the accounts listed apart."""
    if not dossier.households:
        return []
    rows, note = _cut(
        [
            [
                f"{h['line']}\n{h['enrichment']}",
                "\n".join(h["reports"]),
                _few(h["elsewhere"]) or "all in this referral",
            ]
            for h in dossier.households
        ],
        "lines",
    )
    return [
        Heading("Households: one home line, possibly several people", "परिवार: एक घरेलू लाइन, संभवतः कई व्यक्ति"),
        Para(
            "These home broadband lines were used by more than one suspect, and nothing else says the suspects are "
            "one person. One request to the ISP names the subscriber and the address; the accounts are listed apart "
            "and none is to be taken for another.",
            "इन घरेलू ब्रॉडबैंड लाइनों का उपयोग एक से अधिक संदिग्धों ने किया; एक पता, संभवतः कई व्यक्ति।",
        ),
        Grid(["Home line", "Suspect: reports", "Suspects not in this referral"], rows, note, (34, 40, 26)),
    ]


def _others(dossier: Dossier) -> list[Block]:
    if not dossier.other_parties:
        return []
    # other people's values, apart: a recipient may be another suspect (network evidence), a victim is a
    # safeguarding fact; none of them is an identifier of the suspect
    rows, note = _cut(
        [
            [
                f"{both('role', o['role'], ' / ')}\n{english('kind', o['kind'])}",
                o["canonical"],
                f"{_few(o['reports'])}\n{o['esp']}",
            ]
            for o in dossier.other_parties
        ],
        "values",
    )
    return [
        Heading("Other people in these reports — NOT the suspect's identifiers", "अन्य व्यक्ति — संदिग्ध के नहीं"),
        Grid(["Whose / kind", "Value", "Reports / company"], rows, note, (34, 41, 25)),
    ]


def _files(dossier: Dossier) -> list[Block]:
    rows, note = _cut(
        [
            [
                f"{f['file_name'] or ''}\nreport {f['report_id']}",
                _text(f["hashes"]).replace(", ", "\n"),
                "\n".join(
                    x
                    for x in (
                        english("relevance", f["relevance"]),
                        ", ".join(english("annotation", a) for a in f["annotations"]),
                    )
                    if x
                ),
                "\n".join(x for x in (f["upload_ip"] or "", clock(f["uploaded_utc"])) if x),
                "NOT VIEWED" if f["viewed_by_esp"] is False else _text(f["viewed_by_esp"]),
            ]
            for f in dossier.files
        ],
        "files",
    )
    return [
        Heading("Files (metadata only; no media is held)", "फ़ाइलें (केवल मेटाडेटा)"),
        Grid(
            ["File / report", "Hashes", "Relevance / annotations", "Upload IP / time", "Viewed by ESP"],
            rows,
            note,
            (18, 38, 16, 19, 9),
        ),
    ]


def _reports(dossier: Dossier) -> list[Block]:
    return [
        Heading("Linked reports", "संबद्ध रिपोर्टें"),
        Grid(
            ["NCMEC report / suspect", "Company / incident type", "Incident", "Annotations / escalation"],
            [
                [
                    f"{r['report_id']}\n{r['suspect_id']}",
                    f"{r['esp'] or ''}\n{both('incident_type', r['incident_type'])}",
                    clock(r["incident_at_utc"]),
                    "\n".join(
                        x
                        for x in (", ".join(english("annotation", a) for a in r["annotations"]), r["escalation"] or "")
                        if x
                    ),
                ]
                for r in dossier.reports
            ],
            widths=(15, 33, 21, 31),
        ),
    ]


def _answers(dossier: Dossier) -> list[Block]:
    blocks: list[Block] = [Heading("ISP answers received", "आईएसपी से प्राप्त उत्तर")]
    if dossier.answers:
        blocks.append(
            Grid(
                ["IP / port", "Time", "Subscriber", "Address", "Phone / email", "ID document", "Connection"],
                [
                    [
                        a["ip"] + ("" if a["port"] is None else f"\nport {a['port']}"),
                        clock(a["time_utc"]),
                        a["subscriber_name"] or "",
                        " ".join(x for x in (a["address"], a["pin"]) if x),
                        "\n".join(x for x in (a["phone"], a["alternate_phone"], a["email"]) if x),
                        a["id_document"],
                        a["connection_type"] or "",
                    ]
                    for a in dossier.answers
                ],
                widths=(16, 15, 14, 22, 15, 10, 8),
            )
        )
    else:
        blocks.append(Para("None yet.", "अभी तक कोई नहीं।"))
    if dossier.requests:
        blocks.append(
            Grid(
                ["Request", "Recipient", "Status", "Sent under", "Items", "Due"],
                [
                    [
                        r["reference"],
                        r["recipient"],
                        r["status"],
                        r.get("sent_reference") or "",
                        str(r["items"]),
                        clock(r["due_utc"]),
                    ]
                    for r in dossier.requests
                ],
            )
        )
    return blocks


def _checklist(dossier: Dossier) -> list[Block]:
    return [
        Heading("Checklist for the station", "थाने हेतु कार्य सूची"),
        Grid(
            ["#", "Task / कार्य", "Due / समय-सीमा"],
            [
                [
                    str(n),
                    "\n".join(x for x in (c["task"], c.get("hindi", "")) if x),
                    "\n".join(x for x in (c["due"], c.get("due_hindi", "")) if x),
                ]
                for n, c in enumerate(dossier.checklist, 1)
            ],
            widths=(4, 70, 26),
        ),
    ]
