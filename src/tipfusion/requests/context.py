"""Who a notice is from and which cases it serves: what `requests.service` gathers and `requests.letters` writes.

Apart from the writers (python-docx, openpyxl, Jinja, WeasyPrint) so that `requests list` and `requests sent`, which
read and record, do not load them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tipfusion.config import UnitProfile


@dataclass(frozen=True)
class CaseLine:
    """One case a notice serves, as it is quoted (English, Hindi)."""

    english: str
    hindi: str


@dataclass(frozen=True)
class LetterContext:
    reference: str
    date: datetime
    unit: UnitProfile  # letterhead and signature: who sends it and how to reach them
    officer: str | None  # the recipient's nodal officer
    email: str | None
    address: str | None
    synthetic: bool
    cases: tuple[CaseLine, ...] = ()  # the FIRs (or referrals without one yet) this notice serves

    @property
    def signature(self) -> list[str]:
        """Name, designation, station (the unit), address and contact, one a line."""
        unit = self.unit
        return [x for x in (unit.officer_name, unit.officer_designation, unit.name, unit.address, unit.contact) if x]

    @property
    def case_lines(self) -> list[CaseLine]:
        return list(self.cases) or [CaseLine("no FIR yet", "अभी तक प्राथमिकी दर्ज नहीं")]


def case_line(referral: str, station: str | None, fir_number: str | None, fir_date: datetime | date | None) -> CaseLine:
    """`FIR 42/2026 dated 03.12.2026, PS Demopur 4 (referral TF/REF/2026/000001)`, or the referral without one yet."""
    if fir_number:
        dated = f" dated {fir_date:%d.%m.%Y}" if fir_date else ""
        dated_hi = f" दिनांक {fir_date:%d.%m.%Y}" if fir_date else ""
        at = f", {station}" if station else ""
        return CaseLine(
            f"FIR {fir_number}{dated}{at} (referral {referral})",
            f"प्राथमिकी {fir_number}{dated_hi}{at} (संदर्भ {referral})",
        )
    to = f" to {station}" if station else ""
    return CaseLine(f"referral {referral}{to}: no FIR yet", f"संदर्भ {referral}{to}: अभी तक प्राथमिकी दर्ज नहीं")
