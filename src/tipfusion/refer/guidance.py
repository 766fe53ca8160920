"""What a referral advises: standard statements (the unit's own wording, by ESP and incident), the legal sections
the profile suggests, and a checklist of what the station must do, with deadlines."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from tipfusion.config import UnitProfile
from tipfusion.errors import ConfigurationError
from tipfusion.refer.dossier import Dossier

ENTICEMENT_WORDS = ("Enticement",)

# Indian profile (shared/reference/india-domain.md): what a station registers a CSEAM case under.
SECTIONS_IN = [
    (
        "IT Act 2000 s.67B",
        "publishing, transmitting, collecting, browsing or exchanging material depicting children "
        "in sexually explicit acts",
        "सूचना प्रौद्योगिकी अधिनियम 2000 धारा 67ख",
    ),
    ("POCSO Act 2012 s.14", "use of a child for pornographic purposes (minimum 5 years)", "पॉक्सो अधिनियम 2012 धारा 14"),
    (
        "POCSO Act 2012 s.15",
        "storage or possession of pornographic material involving a child: (1) without reporting, "
        "(2) for transmission, (3) for commercial purposes",
        "पॉक्सो अधिनियम 2012 धारा 15",
    ),
]
SECTIONS_IN_CONTACT = [
    (
        "IT Act 2000 s.67B(c)",
        "cultivating, enticing or inducing children to online relationships",
        "सूचना प्रौद्योगिकी अधिनियम 2000 धारा 67ख(ग)",
    ),
    ("POCSO Act 2012 ss.11-12", "sexual harassment of a child, including online", "पॉक्सो अधिनियम 2012 धारा 11-12"),
]
SECTIONS_IN_PRODUCTION = [
    ("POCSO Act 2012 s.13", "use of a child for pornographic purposes (production)", "पॉक्सो अधिनियम 2012 धारा 13"),
]


def load_statements(path: str | None) -> list[dict[str, Any]]:
    source = Path(path) if path else Path(str(files("tipfusion.refer"))) / "data" / "statements.toml"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{source}: cannot read the referral statements: {exc}") from exc
    statements = data.get("statement", [])
    for number, item in enumerate(statements, 1):
        if not isinstance(item, dict) or not item.get("text"):
            raise ConfigurationError(f"{source}: statement {number} has no text")
        unknown = set(item) - {
            "id",
            "text",
            "hindi",
            "always",
            "esp",
            "incident",
            "annotation",
            "file_not_viewed",
            "identifiable",
            "answers",
        }
        if unknown:
            raise ConfigurationError(
                f"{source}: statement {number} ({item.get('id')}): unknown condition(s) {', '.join(sorted(unknown))}"
            )
    return list(statements)


def _holds(item: dict[str, Any], dossier: Dossier) -> bool:
    checks: list[bool] = []
    if "esp" in item:
        esps = {r["esp"] or "" for r in dossier.reports}
        checks.append(any(word.lower() in esp.lower() for word in item["esp"] for esp in esps))
    if "incident" in item:
        kinds = {r["incident_type"] or "" for r in dossier.reports}
        checks.append(any(word.lower() in kind.lower() for word in item["incident"] for kind in kinds))
    if "annotation" in item:
        names = {a for r in dossier.reports for a in r["annotations"]}
        checks.append(bool(names & set(item["annotation"])))
    if "file_not_viewed" in item:
        checks.append((dossier.files_not_viewed > 0) == bool(item["file_not_viewed"]))
    if "identifiable" in item:
        checks.append(any(t["identifiable"] for t in dossier.ip_timeline) == bool(item["identifiable"]))
    if "answers" in item:
        checks.append(bool(dossier.answers) == bool(item["answers"]))
    if item.get("always"):
        checks.append(True)
    return bool(checks) and all(checks)


def statements_for(dossier: Dossier, statements: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"id": str(s.get("id", "")), "text": str(s["text"]), "hindi": str(s.get("hindi", ""))}
        for s in statements
        if _holds(s, dossier)
    ]


def sections_for(dossier: Dossier, country: str) -> list[dict[str, str]]:
    if country != "IN":
        return []
    chosen = list(SECTIONS_IN)
    contact = any(
        any(w in (r["incident_type"] or "") for w in ENTICEMENT_WORDS)
        or {"sextortion", "minorToMinorInteraction", "csamSolicitation"} & set(r["annotations"])
        for r in dossier.reports
    )
    if contact:
        chosen += SECTIONS_IN_CONTACT
    if any(
        "selfProduction" in f["annotations"] or "production" in (f["relevance"] or "").lower() for f in dossier.files
    ):
        chosen += SECTIONS_IN_PRODUCTION
    return [{"section": s, "why": why, "hindi": hindi} for s, why, hindi in chosen]


def _due(moment: datetime, zone: str) -> str:
    """`04.12.2026 23:40 IST (Asia/Kolkata)`: the station's own clock, its zone named."""
    return f"{moment:%d.%m.%Y %H:%M} {moment.tzname()} ({zone})"


def _item(task: str, hindi: str, due: str = "", due_hindi: str = "") -> dict[str, str]:
    return {"task": task, "hindi": hindi, "due": due, "due_hindi": due_hindi}


def _reach(unit: UnitProfile) -> str:
    """Whom the station answers: the unit, with its phone and email when the profile has them."""
    return unit.name + (f" ({unit.contact})" if unit.contact else "")


def checklist_for(
    dossier: Dossier, sent: datetime, acknowledge_hours: int, fir_days: int, unit: UnitProfile | None = None
) -> list[dict[str, str]]:
    """What the station must do, in English and Hindi, each with a deadline where one applies, and whom to tell."""
    unit = unit or UnitProfile()
    zone_note = dossier.display_timezone
    reach = _reach(unit)
    items = [
        _item(
            f"Acknowledge receipt of this referral to the unit: {reach}",
            f"इस संदर्भ की प्राप्ति की सूचना इकाई को दें: {reach}",
            _due(sent + timedelta(hours=acknowledge_hours), zone_note),
        ),
        _item(
            "Register an FIR, or report to the unit why not",
            "प्राथमिकी (एफ़आईआर) दर्ज करें, अथवा इकाई को कारण बताएँ",
            _due(sent + timedelta(days=fir_days), zone_note),
        ),
    ]
    items += _isp_items(dossier)
    phones = [i for i in dossier.identifiers if i["kind"] == "phone" and i["valid"]]
    for phone in phones[:10]:
        number = phone["canonical"]
        items.append(
            _item(
                f"Obtain the subscriber record (CAF) and call records for {number}",
                f"{number} का ग्राहक अभिलेख (सीएएफ़) और कॉल विवरण प्राप्त करें",
            )
        )
    devices = ", ".join([i["shown"] for i in dossier.identifiers if i["kind"] == "device"][:5])
    items.append(
        _item(
            "On arrest or search, seize and seal phones, computers and storage media"
            + (f"; look for devices {devices}" if devices else "")
            + ", with a hash of each image taken (no media to be sent to the unit)",
            "गिरफ़्तारी या तलाशी पर फ़ोन, कंप्यूटर और स्टोरेज मीडिया ज़ब्त कर सील करें"
            + (f"; इन डिवाइसों को खोजें: {devices}" if devices else "")
            + "; प्रत्येक इमेज का हैश लें (इकाई को कोई मीडिया न भेजें)",
        )
    )
    for answer in dossier.answers:
        who, where = answer["subscriber_name"] or "", answer["address"] or ""
        items.append(
            _item(
                f"Verify subscriber {who} at {where} (answer to {answer['ip']} at {answer['time_utc']})",
                f"ग्राहक {who} का {where} पर सत्यापन करें ({answer['ip']}, {answer['time_utc']} के उत्तर के अनुसार)",
            )
        )
    items.append(
        _item(
            f"Report the FIR number, arrests and seizures to the unit: {reach}",
            f"प्राथमिकी संख्या, गिरफ़्तारियाँ और ज़ब्ती की सूचना इकाई को दें: {reach}",
            "as each happens",
            "प्रत्येक कार्रवाई होते ही",
        )
    )
    return items


def _isp_items(dossier: Dossier) -> list[dict[str, str]]:
    """Identifiable sightings not answered yet, per ISP: follow up a request already sent, or send one."""
    answered = {(a["ip"], a["time_utc"]) for a in dossier.answers}
    pending = [t for t in dossier.ip_timeline if t["identifiable"] and (t["ip"], t["time_utc"]) not in answered]
    requested = {r["recipient"]: r for r in dossier.requests}
    by_isp: dict[str, int] = {}
    for t in pending:
        by_isp[t["isp"] or "ISP unknown"] = by_isp.get(t["isp"] or "ISP unknown", 0) + 1
    items = []
    for isp, count in sorted(by_isp.items()):
        request = requested.get(isp)
        if request:
            reference, status = request["reference"], request["status"]
            items.append(
                _item(
                    f"Follow up {isp}: request {reference} ({status}) covers them",
                    f"{isp} से अनुवर्ती कार्रवाई करें: अनुरोध {reference} ({status}) में ये शामिल हैं",
                    request["due_utc"] or "not sent yet",
                    "" if request["due_utc"] else "अभी भेजा नहीं गया",
                )
            )
        else:
            items.append(
                _item(
                    f"Send a BNSS s.94 notice to {isp} for {count} IP sighting(s) listed in the timeline "
                    "(IP, port, time)",
                    f"{isp} को समयरेखा में सूचीबद्ध {count} आईपी प्रविष्टियों (आईपी, पोर्ट, समय) हेतु बीएनएसएस "
                    "धारा 94 के अंतर्गत नोटिस भेजें",
                    "72 hours after the notice is served",
                    "नोटिस तामील होने के 72 घंटे के भीतर",
                )
            )
    return items
