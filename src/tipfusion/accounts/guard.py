"""The command line's role check: `policy.COMMANDS` applied to the logged-in account, a refusal audited.

A refused attempt is written to the audit log as `access.denied` (the same action the web's refusals use, so the
audit viewer shows both), committed before the error is raised, and nothing of the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tipfusion.accounts.policy import may_run, refusal, roles_for
from tipfusion.errors import AccessRefused

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tipfusion.accounts.principal import Principal


def authorize_command(engine: Engine, principal: Principal, command: str) -> None:
    """Let the command run, or audit the attempt and raise `AccessRefused` naming who may run it."""
    if may_run(principal, command):
        return
    from tipfusion.audit import UnitOfWork

    details = {
        "username": principal.username,
        "role": str(principal.role),
        "district": principal.district,
        "station": principal.station,
        "action": "run",
        "why": f"role {principal.role} may not run it",
        "allowed": sorted(str(role) for role in roles_for(command)),
        "channel": "cli",
    }
    with UnitOfWork(engine, principal.username) as uow:
        uow.record("access.denied", "command", command, details)
    raise AccessRefused(refusal(principal, command))
