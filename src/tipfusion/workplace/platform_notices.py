"""Notices to platforms (ESPs) as the analyst works them in the browser: which platforms reported accounts of
reported persons (with the user ID a notice can name), build the notice for one, and then — on the request's own
page, shared with ISP requests — download its parts and record that it was sent, with the reference it went under.

The same service as `tipfusion requests build --platforms` (`requests.service.build_platform_requests`), run as
the principal. The central unit asks (analysts and admins, `accounts.policy.CENTRAL_WORKERS`); every other role is
refused as not found, audited. The list viewed is audited (`view.list`); the build is audited by the service
(`request.built`, object `platform_request`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from tipfusion import clock
from tipfusion.accounts.principal import Principal
from tipfusion.audit import UnitOfWork
from tipfusion.config import Settings
from tipfusion.errors import TipfusionError
from tipfusion.requests.service import (
    PLATFORM_PREFIX,
    BuiltRequest,
    build_platform_requests,
    platform_accounts,
    request_dict,
)
from tipfusion.store.tables import isp_requests
from tipfusion.workplace.cases import FieldErrors
from tipfusion.workplace.isp_requests import RequestLine, _line, _require


@dataclass(frozen=True, slots=True)
class PlatformLine:
    """A platform a notice can go to: the reported accounts it would list, and the latest notice sent to it."""

    platform: str
    accounts: int
    reports: int
    last: RequestLine | None


def _latest_notices(engine: Engine) -> dict[str, RequestLine]:
    """The latest notice to each platform, in one query (the highest id per recipient)."""
    t = isp_requests
    platform = t.c.recipient.startswith(PLATFORM_PREFIX, autoescape=True)
    latest = select(func.max(t.c.id)).where(platform).group_by(t.c.recipient)
    moment = clock.now()
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.id.in_(latest))).all()
    lines = [_line(request_dict(row, moment)) for row in rows]
    return {line.recipient: line for line in lines}


def platform_overview(engine: Engine, principal: Principal) -> list[PlatformLine]:
    """Every platform with reported accounts to ask about, and its latest notice; audited as a view of the list."""
    _require(engine, principal, "platform notices")
    latest = _latest_notices(engine)
    lines = [PlatformLine(name, n, m, latest.get(name)) for name, n, m in platform_accounts(engine)]
    details = {"channel": "web", "platforms": len(lines)}
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("view.list", "list", "platform_notices", details)
    return lines


def build_platform_notice(
    engine: Engine, settings: Settings, principal: Principal, output: Path, platform: str
) -> BuiltRequest:
    """The notice (PDF, DOCX) and annex (CSV, XLSX) to one platform for every reported account it reported,
    sealed in `output`. Refusals are `FieldErrors` on `platform` (none chosen, or no reported account of it)."""
    _require(engine, principal, "build platform notice", action="request")
    name = platform.strip()
    if not name:
        raise FieldErrors({"platform": "choose the platform to write to"})
    known = {found for found, _, _ in platform_accounts(engine)}
    if name not in known:
        raise FieldErrors({"platform": f"no reported account with a user ID of {name!r} is on record"})
    try:
        built = build_platform_requests(engine, settings, principal.username, output, {name})
    except TipfusionError as error:
        raise FieldErrors({"platform": str(error)}) from error
    if not built:
        raise FieldErrors({"platform": f"nothing to ask {name}"})
    return built[0]
