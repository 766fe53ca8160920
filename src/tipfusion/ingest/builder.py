"""Shared record-building for every report format: normalise, flag, and collect — or reject.

Parsers walk their format and call these helpers; the helpers turn raw strings into typed records,
apply the identifier registry, and raise `DocumentRejected` for what must not land (an IP that is not an IP,
an impossible date, a port that is not a port). Everything else that is odd becomes an `Issue`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from tipfusion import clock
from tipfusion.domain import Account, EstimatedLocation, FileRecord, Issue, Observation, party_role
from tipfusion.errors import DocumentRejected
from tipfusion.normalise import Context, clean, parse_date, parse_timestamp
from tipfusion.normalise.freetext import mine
from tipfusion.normalise.registry import KINDS
from tipfusion.normalise.timestamps import ImpossibleTime

TRUE_WORDS = {"true", "1", "yes", "y"}
FALSE_WORDS = {"false", "0", "no", "n"}
_INTEGER = re.compile(r"[+-]?[0-9]+")

# Kinds whose value depends on the ESP scope, which a streaming parser may learn late.
SCOPED_KINDS = frozenset(k.name for k in KINDS.values() if k.esp_scoped)


class Builder:
    """Collects the records of one report (or one fileDetails document) while a parser walks it."""

    def __init__(
        self,
        source: str,
        phone_region: str,
        report_id: int | None = None,
        line: int | None = None,
        xs_datetime: bool = False,
    ):
        self.source = source
        self.xs_datetime = xs_datetime  # the XML schema types its times: hold them to xs:dateTime's form
        self.phone_region = phone_region
        self.report_id = report_id
        self.line = line
        self._esp_scope: str | None = None
        self.context = Context(phone_region=phone_region)
        self.observations: list[Observation] = []
        self.accounts: list[Account] = []
        self.locations: list[EstimatedLocation] = []
        self.files: list[FileRecord] = []
        self.issues: list[Issue] = []
        self.extras: list[dict[str, str]] = []
        # "now" for the range check of this document's times, read once: the clock is read from the environment
        # (TIPFUSION_NOW), which cost more than parsing the time itself when read for every one
        self.now = clock.now()

    @property
    def esp_scope(self) -> str | None:
        return self._esp_scope

    @esp_scope.setter
    def esp_scope(self, scope: str | None) -> None:
        self._esp_scope = scope
        self.context = Context(phone_region=self.phone_region, esp_scope=scope)

    # -- rejection and issues -------------------------------------------------------------------------
    def reject(
        self,
        reason: str,
        message: str,
        element: str | None = None,
        expected: str | None = None,
        line: int | None = None,
    ) -> DocumentRejected:
        return DocumentRejected(
            self.source,
            reason,
            message,
            element=element,
            line=line or self.line,
            expected=expected,
            report_id=self.report_id,
        )

    def issue(self, code: str, path: str, value: str | None = None, expected: str | None = None) -> None:
        self.issues.append(Issue(code, path, value, expected))

    def unknown(self, path: str, raw: str, code: str = "unknown_element") -> None:
        """Something no field holds (an element, attribute, stray text or JSON key): kept verbatim with its path.

        `code` says what it was; the unknown_* codes are counted as unknown fields, others (invalid_structure)
        are a value of the wrong shape where a known one belongs, kept so that nothing received is dropped.
        """
        self.extras.append({"path": path, "raw": raw})
        self.issue(code, path)

    # -- scalar conversions ---------------------------------------------------------------------------
    def boolean(self, raw: str | None, path: str) -> bool | None:
        if raw is None:
            return None
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        if word in {"", "n/a"}:
            return None
        self.issue("invalid_boolean", path, raw, "true or false")
        return None

    def integer(self, raw: str | int | None, path: str) -> int | None:
        if raw is None or (isinstance(raw, str) and raw.strip() in {"", "N/A"}):
            return None
        text = str(raw).strip()
        # ASCII digits only (int() also reads '²' or Arabic-Indic digits) and within the store's 64-bit columns
        if _INTEGER.fullmatch(text) is None or len(text) > 20 or not -(2**63) <= int(text) < 2**63:
            self.issue("invalid_integer", path, text[:100], "an integer (ASCII digits, 64-bit)")
            return None
        return int(text)

    def enum(
        self, raw: str | None, allowed: frozenset[str], path: str, note_case: bool = True, width: int | None = None
    ) -> str | None:
        """Exact enum values pass; a case variant is mapped (and noted); anything else is kept and flagged — unless
        it is wider than the store's column (`width`): then the document is rejected here, naming the element, on
        every database alike. PostgreSQL refused such a value only when the version was written, SQLite kept it."""
        if raw is None:
            return None
        value = raw.strip()
        if value in allowed:
            return value
        for option in allowed:
            if option.lower() == value.lower():
                if note_case:
                    self.issue("enum_case", path, value, option)
                return option
        if width is not None and len(value) > width:
            raise self.reject(
                "value_too_long",
                f"{value[:40]!r} is not a known value and is longer than the {width} characters the store holds",
                element=path,
                expected=" | ".join(sorted(allowed)),
            )
        self.issue("unknown_enum", path, value, " | ".join(sorted(allowed)))
        return value

    def timestamp(self, raw: str | None, path: str, line: int | None = None) -> datetime | None:
        return self.timestamp_zoned(raw, path, line)[0]

    def timestamp_zoned(self, raw: str | None, path: str, line: int | None = None) -> tuple[datetime | None, bool]:
        """The UTC time and whether the source gave a zone (False means 'read as UTC', flagged)."""
        if raw is None or not raw.strip() or raw.strip().upper() == "N/A":
            return None, True
        try:
            parsed = parse_timestamp(raw, now=self.now, xs_datetime=self.xs_datetime)
        except ImpossibleTime as exc:
            raise self.reject(
                "impossible_date",
                str(exc),
                element=path,
                expected="an ISO 8601 date-time with zone (e.g. 2024-01-15T14:30:00Z), between 1970 and now",
                line=line,
            ) from exc
        if not parsed.had_zone:
            self.issue("no_timezone", path, raw, "a zone (Z or ±hh:mm); read as UTC")
        return parsed.utc, parsed.had_zone

    def date(self, raw: str | None, path: str, line: int | None = None) -> date | None:
        if raw is None or not raw.strip() or raw.strip().upper() == "N/A":
            return None
        try:
            return parse_date(raw)
        except ImpossibleTime as exc:
            raise self.reject(
                "impossible_date", str(exc), element=path, expected="an ISO 8601 date between 1900 and today", line=line
            ) from exc

    def port(self, raw: str | int | None, path: str, line: int | None = None) -> int | None:
        if raw is None or (isinstance(raw, str) and raw.strip() in {"", "N/A"}):
            return None
        text = str(raw).strip()
        value = int(text) if _INTEGER.fullmatch(text) is not None and len(text) <= 6 else -1
        if not 0 <= value <= 65535:
            raise self.reject(
                "invalid_port", f"not a port number: {raw!r}", element=path, expected="an integer 0-65535", line=line
            )
        return value

    # -- identifiers ----------------------------------------------------------------------------------
    def observe(
        self,
        kind: str,
        raw: str | None,
        path: str,
        *,
        context: Context | None = None,
        extra_flags: tuple[str, ...] = (),
        **fields: Any,
    ) -> Observation | None:
        """Normalise `raw` as `kind` and record it; None when there is no value."""
        if raw is None:
            return None
        text = raw if type(raw) is str else str(raw)
        stripped = text.strip()
        if not stripped or (len(stripped) == 3 and stripped.upper() == "N/A"):
            return None
        cleaned = clean(kind, text, context or self.context)
        if cleaned is None:
            return None
        flags = cleaned.flags + extra_flags if extra_flags else cleaned.flags
        if "role" not in fields:
            fields["role"] = self.role_of(fields.get("account"), fields.get("file"))
        obs = Observation(
            kind=kind,
            value=cleaned.value,
            canonical=cleaned.canonical,
            raw=text,
            path=path,
            valid=cleaned.valid,
            detail=cleaned.detail,
            flags=flags,
            **fields,
        )
        self.observations.append(obs)
        return obs

    def ip_event(
        self,
        *,
        ip_raw: str | None,
        path: str,
        event: str | None,
        time_raw: str | None,
        proxy: bool | None,
        port_raw: str | int | None,
        account: int | None = None,
        file: int | None = None,
        line: int | None = None,
        origin: str = "field",
    ) -> None:
        """An IP capture: the address, the exact time and the source port, all kept as received."""
        if ip_raw is None or not str(ip_raw).strip():
            raise self.reject(
                "missing_element",
                "ipCaptureEvent without ipAddress",
                element=f"{path}/ipAddress",
                expected="an IPv4 or IPv6 address",
                line=line,
            )
        observed_at, zoned = self.timestamp_zoned(time_raw, f"{path}/dateTime", line)
        port = self.port(port_raw, f"{path}/port", line)
        obs = self.observe(
            "ip",
            str(ip_raw),
            f"{path}/ipAddress",
            extra_flags=() if zoned else ("no_timezone",),
            account=account,
            file=file,
            event_name=event,
            observed_at=observed_at,
            observed_at_raw=time_raw,
            port=port,
            possible_proxy=proxy,
            origin=origin,
        )
        if obs is not None and not obs.valid:
            self.observations.pop()
            raise self.reject(
                "invalid_ip",
                f"not an IP address: {ip_raw!r}",
                element=f"{path}/ipAddress",
                expected="an IPv4 or IPv6 address",
                line=line,
            )

    def device(
        self,
        *,
        id_type: str | None,
        id_value: str | None,
        path: str,
        event: str | None,
        time_raw: str | None,
        account: int | None = None,
        file: int | None = None,
        line: int | None = None,
    ) -> None:
        if not id_type or not id_value:
            missing = "idType" if not id_type else "idValue"
            raise self.reject(
                "missing_element",
                f"deviceId without {missing}",
                element=f"{path}/{missing}",
                expected="idType and idValue",
                line=line,
            )
        observed_at, zoned = self.timestamp_zoned(time_raw, f"{path}/dateTime", line)
        self.observe(
            "device",
            id_value,
            f"{path}/idValue",
            context=Context(id_type=id_type),
            extra_flags=() if zoned else ("no_timezone",),
            account=account,
            file=file,
            event_name=event,
            observed_at=observed_at,
            observed_at_raw=time_raw,
            attrs={"idType": id_type},
        )

    def free_text(self, text: str | None, path: str, account: int | None = None, file: int | None = None) -> None:
        """Mine emails and IPs out of additionalInfo-style text, marked as weaker evidence."""
        if not text:
            return
        for kind, raw in mine(text):
            self.observe(kind, raw, path, account=account, file=file, origin="free_text")

    def role_of(self, account: int | None, file: int | None) -> str:
        """Whose a value is: the account's party; a file's details are the reported person's upload; the rest
        belongs to the incident (chat rooms, incident e-mails and URLs, report-level free text)."""
        if account is not None and 0 <= account < len(self.accounts):
            acc = self.accounts[account]
            parent = self.accounts[acc.parent].role if acc.parent is not None else None
            return party_role(acc.role, parent)
        if file is not None:
            return "reported"
        return "incident"

    def new_account(self, role: str, path: str, parent: int | None = None) -> Account:
        account = Account(ordinal=len(self.accounts), role=role, path=path, parent=parent)
        self.accounts.append(account)
        return account

    def apply_scope(self, scope: str) -> None:
        """Prefix ESP-scoped identifiers once the reporting ESP is known (it may come late in the document)."""
        self.esp_scope = scope
        for obs in self.observations:
            if obs.kind in SCOPED_KINDS and not (obs.attrs and "scope" in obs.attrs):
                cleaned = clean(obs.kind, obs.raw, self.context)
                if cleaned is not None:
                    obs.value, obs.canonical, obs.detail = cleaned.value, cleaned.canonical, cleaned.detail
