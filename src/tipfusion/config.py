"""Settings read once from the environment (and an optional TOML file).

A deployment differs from another by its database, its country profile and its limits; everything
else is code. Settings are a frozen dataclass so a run can record exactly what it used.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge

from tipfusion.errors import ConfigurationError

if TYPE_CHECKING:
    from tipfusion.tuning import Tuning

FIR_PATTERN = r"(?P<serial>\d{1,6})/(?P<year>\d{4})"


@dataclass(frozen=True, slots=True)
class Profile:
    """Country-specific defaults: phone region for numbers without a country code, display zone."""

    country: str = "IN"
    phone_region: str = "IN"
    display_timezone: str = "Asia/Kolkata"
    # FIR numbers as stations write them: serial/year (the year must be the FIR's)
    fir_pattern: str = FIR_PATTERN

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.display_timezone)


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Hard limits on untrusted XML; a user with a legitimately larger file raises them."""

    max_document_bytes: int = 64 * 1024 * 1024
    stream_above_bytes: int = 4 * 1024 * 1024
    # zips: the archive file itself, what all its members (nested zips included) may expand to, how many times its
    # own size that may be, and how deep zips may nest; the members past a limit are quarantined with the reason
    max_archive_bytes: int = 2 * 1024 * 1024 * 1024
    max_archive_expanded_bytes: int = 8 * 1024 * 1024 * 1024
    max_zip_ratio: int = 200
    max_zip_depth: int = 3


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    """When a station's next step is due after a referral is sent (the unit's own standing orders): the
    `[deadlines]` table of the settings file (`tipfusion.tuning`)."""

    acknowledge_hours: Annotated[int, Ge(1)] = 48
    fir_days: Annotated[int, Ge(1)] = 7


@dataclass(frozen=True, slots=True)
class UnitProfile:
    """Who sends referrals and notices, and how to reach them: a station officer or an ISP's nodal officer acts on
    a document only when it says whom to call back and who signed it."""

    name: str = "Cyber Crime Unit"
    address: str = ""
    phone: str = ""
    email: str = ""
    officer_name: str = ""  # the officer in charge, who signs referrals and notices
    officer_designation: str = "Station House Officer"  # the SHO for the Indian profile

    @property
    def contact(self) -> str:
        """Phone and email on one line (empty when the profile has neither)."""
        return "; ".join(x for x in (f"Phone {self.phone}" if self.phone else "", self.email) if x)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///tipfusion.db"
    profile: Profile = field(default_factory=Profile)
    xml_limits: XmlLimits = field(default_factory=XmlLimits)
    reports_per_transaction: int = 2000
    ingest_workers: int = -1  # parser processes; -1: automatic (one per core for large batches), 0: none
    ip_databases: tuple[str, ...] = ()  # MaxMind-format .mmdb files (ASN, ISP, City, Enterprise), the unit's own
    isp_table: str | None = None
    ip_warninglist: str | None = None
    disposable_domains: str | None = None
    request_prefix: str = "TF/ISP"  # reference numbers of requests: PREFIX/isp/yyyymmdd/n
    templates_dir: str | None = None  # the unit's own letter templates, overriding the built-in ones
    unit: UnitProfile = field(default_factory=UnitProfile)  # who referrals and notices come from
    referral_prefix: str = "TF/REF"  # referral references: PREFIX/yyyy/nnnnnn
    referral_statements: str | None = None  # the unit's own standard statements (TOML), replacing the built-in ones
    referrals_dir: str = "referrals"  # where referral packages are written (the web app; `refer build` by default)
    requests_dir: str = "requests"  # where the web application writes notices to ISPs
    signing_key: str | None = None  # the unit's Ed25519 private key (PEM): signs packages and audit checkpoints
    config_file: str | None = None  # the TOML file the settings came from (TIPFUSION_CONFIG), read again by tuning()
    # the TIPFUSION_* variables the settings were loaded with (None: the process environment, read when needed)
    environment: tuple[tuple[str, str], ...] | None = None

    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def issuing_officer(self) -> str:
        """The signatory of notices: the officer in charge's designation (and name, when the profile has one)."""
        return ", ".join(x for x in (self.unit.officer_name, self.unit.officer_designation) if x)

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)

    def tuning(self) -> Tuning:
        """The `[link]`, `[triage]`, `[routing]` and `[deadlines]` settings, validated on first use (they load
        pydantic, which the commands that do not decide anything never pay for)."""
        from tipfusion.tuning import load_tuning

        return load_tuning(self.config_file, None if self.environment is None else dict(self.environment))

    @property
    def case_deadlines(self) -> CaseDeadlines:
        return self.tuning().deadlines


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from `TIPFUSION_*` variables, after an optional `TIPFUSION_CONFIG` TOML file.

    Environment beats file, so an operator can override one value for one run. A value that cannot be used is a
    ConfigurationError naming the variable (or file key) and what is expected, never a traceback.
    """
    env = dict(os.environ) if env is None else env
    data = read_config_file(env.get("TIPFUSION_CONFIG"))
    profile_data = _section(data, "profile")
    limits_data = _section(data, "xml_limits")
    profile = Profile(
        country=env.get("TIPFUSION_COUNTRY", profile_data.get("country", "IN")),
        phone_region=env.get("TIPFUSION_PHONE_REGION", profile_data.get("phone_region", "IN")),
        display_timezone=_zone_name(env, profile_data.get("display_timezone", "Asia/Kolkata")),
        fir_pattern=env.get("TIPFUSION_FIR_PATTERN", profile_data.get("fir_pattern", FIR_PATTERN)),
    )
    refer = _section(data, "referrals")
    limits = XmlLimits(
        max_document_bytes=_int(env, "TIPFUSION_MAX_DOCUMENT_BYTES", limits_data.get("max_document_bytes"), 64 << 20),
        stream_above_bytes=_int(env, "TIPFUSION_STREAM_ABOVE_BYTES", limits_data.get("stream_above_bytes"), 4 << 20),
        max_archive_bytes=_int(env, "TIPFUSION_MAX_ARCHIVE_BYTES", limits_data.get("max_archive_bytes"), 2 << 30),
        max_archive_expanded_bytes=_int(
            env, "TIPFUSION_MAX_ARCHIVE_EXPANDED_BYTES", limits_data.get("max_archive_expanded_bytes"), 8 << 30
        ),
        max_zip_ratio=_int(env, "TIPFUSION_MAX_ZIP_RATIO", limits_data.get("max_zip_ratio"), 200),
        max_zip_depth=_int(env, "TIPFUSION_MAX_ZIP_DEPTH", limits_data.get("max_zip_depth"), 3, minimum=0),
    )
    enrich = _section(data, "enrich")
    databases = env.get("TIPFUSION_IP_DATABASES")
    ip_databases = (
        tuple(p for p in databases.split(os.pathsep) if p) if databases else tuple(enrich.get("ip_databases", ()))
    )
    return Settings(
        ip_databases=ip_databases,
        isp_table=env.get("TIPFUSION_ISP_TABLE", enrich.get("isp_table")),
        ip_warninglist=env.get("TIPFUSION_IP_WARNINGLIST", enrich.get("warninglist")),
        disposable_domains=env.get("TIPFUSION_DISPOSABLE_DOMAINS", enrich.get("disposable_domains")),
        request_prefix=env.get("TIPFUSION_REQUEST_PREFIX", str(data.get("request_prefix", "TF/ISP"))),
        templates_dir=env.get("TIPFUSION_TEMPLATES_DIR", data.get("templates_dir")),  # type: ignore[arg-type]
        ingest_workers=_int(env, "TIPFUSION_INGEST_WORKERS", data.get("ingest_workers"), -1, minimum=-1),
        unit=_unit(env, data, refer),
        referral_prefix=env.get("TIPFUSION_REFERRAL_PREFIX", str(refer.get("prefix", "TF/REF"))),
        referral_statements=env.get("TIPFUSION_REFERRAL_STATEMENTS", refer.get("statements")),
        referrals_dir=env.get("TIPFUSION_REFERRALS_DIR", str(refer.get("output_dir", "referrals"))),
        requests_dir=env.get("TIPFUSION_REQUESTS_DIR", str(_section(data, "requests").get("output_dir", "requests"))),
        config_file=env.get("TIPFUSION_CONFIG") or None,
        environment=tuple(sorted((k, v) for k, v in env.items() if k.startswith("TIPFUSION_"))),
        signing_key=env.get("TIPFUSION_SIGNING_KEY", data.get("signing_key")),  # type: ignore[arg-type]
        database_url=env.get("TIPFUSION_DATABASE_URL", str(data.get("database_url", "sqlite:///tipfusion.db"))),
        profile=profile,
        xml_limits=limits,
        reports_per_transaction=_int(
            env, "TIPFUSION_REPORTS_PER_TRANSACTION", data.get("reports_per_transaction"), 2000
        ),
    )


def read_config_file(path: str | None) -> dict[str, object]:
    """The TOML file TIPFUSION_CONFIG names, if any; a missing or malformed one is an error, not a silent default."""
    if not path:
        return {}
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigurationError(f"TIPFUSION_CONFIG={path!r}: cannot read it ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"TIPFUSION_CONFIG={path!r}: not valid TOML ({exc})") from exc


def _section(data: dict[str, object], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"TIPFUSION_CONFIG: [{name}] must be a table, got {value!r}")
    return value


def _int(env: dict[str, str], name: str, from_file: object, default: int, unit: str = "", *, minimum: int = 1) -> int:
    """A whole number from the environment (or the file), checked, with the variable named when it is not one."""
    raw = env.get(name)
    source = name if raw is not None else f"TIPFUSION_CONFIG key for {name}"
    value: object = raw if raw is not None else (default if from_file is None else from_file)
    expected = f"a whole number{' of ' + unit if unit else ''} ≥ {minimum}, e.g. {default}"
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{source}={value!r}: expected {expected}") from None
    if number < minimum:
        raise ConfigurationError(f"{source}={value!r}: expected {expected}")
    return number


def _zone_name(env: dict[str, str], from_file: str) -> str:
    """An IANA zone name (Asia/Kolkata), not an abbreviation (IST means three different zones)."""
    name = env.get("TIPFUSION_TIMEZONE", from_file)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        source = "TIPFUSION_TIMEZONE" if "TIPFUSION_TIMEZONE" in env else "TIPFUSION_CONFIG [profile] display_timezone"
        raise ConfigurationError(
            f"{source}={name!r}: expected an IANA time zone name such as Asia/Kolkata, Europe/London or UTC"
        ) from None
    return name


def _unit(env: dict[str, str], data: dict[str, object], refer: dict[str, object]) -> UnitProfile:
    """The `[unit]` table and `TIPFUSION_UNIT_*` / `TIPFUSION_OFFICER_*`; the older `[referrals] unit_name`,
    `issuing_officer` and `TIPFUSION_ISSUING_OFFICER` still name the unit and the officer's designation."""
    unit = dict(data.get("unit", {}))  # type: ignore[call-overload]
    default = UnitProfile()
    name = unit.get("name", refer.get("unit_name", default.name))
    designation = unit.get("officer_designation", data.get("issuing_officer", default.officer_designation))
    return UnitProfile(
        name=env.get("TIPFUSION_UNIT_NAME", str(name)),
        address=env.get("TIPFUSION_UNIT_ADDRESS", str(unit.get("address", ""))),
        phone=env.get("TIPFUSION_UNIT_PHONE", str(unit.get("phone", ""))),
        email=env.get("TIPFUSION_UNIT_EMAIL", str(unit.get("email", ""))),
        officer_name=env.get("TIPFUSION_OFFICER_NAME", str(unit.get("officer_name", ""))),
        officer_designation=env.get(
            "TIPFUSION_OFFICER_DESIGNATION", env.get("TIPFUSION_ISSUING_OFFICER", str(designation))
        ),
    )
