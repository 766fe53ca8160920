"""What to ask each platform (ESP): the suspects' accounts, for subscriber details and login logs.

Grouped per reporting ESP; each row names the account (the ESP's own user ID), its screen name, the CyberTipline
reports it appears in and the suspect it belongs to. Pure: plain rows in, one letter per platform out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tipfusion.requests.letters import Letter

PLATFORM_FIELDS = ["item", "account_id", "screen_name", "reports", "suspect_id"]
PLATFORM_COLUMNS = [
    ("item", "#"),
    ("account_id", "Account (user ID)"),
    ("screen_name", "Screen name"),
    ("reports", "CyberTipline reports"),
    ("suspect_id", "Our reference"),
]


@dataclass(frozen=True, slots=True)
class AccountRow:
    esp: str
    account_id: str
    screen_name: str | None
    report_id: int
    suspect_id: str | None


def platform_letters(rows: list[AccountRow]) -> list[Letter]:
    accounts: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for row in sorted(rows, key=lambda r: (r.esp, r.account_id, r.report_id)):
        entry = accounts[row.esp].setdefault(
            row.account_id,
            {
                "account_id": row.account_id,
                "screen_name": row.screen_name or "",
                "reports": [],
                "suspect_id": row.suspect_id or "",
            },
        )
        reports = entry["reports"]
        assert isinstance(reports, list)
        if row.report_id not in reports:
            reports.append(row.report_id)
    letters = []
    for esp, found in sorted(accounts.items()):
        table = []
        for number, entry in enumerate(found.values(), start=1):
            table.append({"item": number, **entry, "reports": ", ".join(str(r) for r in entry["reports"])})  # type: ignore[attr-defined]
        body = [
            f"This office is investigating offences under Section 67B of the Information Technology Act, 2000 and "
            f"Sections 13 to 15 of the Protection of Children from Sexual Offences Act, 2012, reported by {esp} "
            "through the CyberTipline (report numbers below).",
            "You are hereby required, under Section 94 of the Bharatiya Nagarik Suraksha Sanhita, 2023, to preserve "
            "and produce for each account listed: registration details, verified phone numbers and email addresses, "
            "login and session logs with IP addresses, source ports and date-times in UTC, devices, linked or "
            "associated accounts, and payment instruments on record.",
            "Under Rule 3(1)(j) of the Information Technology (Intermediary Guidelines and Digital Media Ethics Code) "
            f"Rules, 2021, the information is to be furnished within 72 hours of receipt of this notice "
            f"({len(table)} accounts; the annex accompanies this notice as a spreadsheet).",
        ]
        letters.append(
            Letter(
                esp,
                "Notice under Section 94 of the Bharatiya Nagarik Suraksha Sanhita, 2023",
                body,
                PLATFORM_COLUMNS,
                PLATFORM_FIELDS,
                table,
            )
        )
    return letters
