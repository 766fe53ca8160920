"""Which role may do what: the one table the command line and the web application both read.

The web's pages check these sets (through `workplace`: `require_roles`, `ensure_may_act`, the admin and audit pages)
and the command line checks `COMMANDS` before a command touches the store, so an account has the same rights in a
terminal as in the browser. Scope (which district or station) is a second, separate check in the services
(`workplace.scope`); a role allowed here still only reaches the cases of its own jurisdiction.

The sets, as the web applies them:

* the central unit's work — ingest, enrich, link, triage, route, overrides, ISP requests, referrals, operations:
  admin and analyst;
* reads across the whole store — search, suspects, networks, reports, the queue, exports, status: admin, analyst
  and supervisor;
* cases: every role but the auditor reads them, and admin, analyst, district and station officers change them
  (within their scope); supervisors only read;
* the audit log: auditor and admin; accounts, keys, the station layer, backups: admin.

A command missing from `COMMANDS` is refused (a test lists every command the CLI has), so a new command cannot run
unchecked by accident.
"""

from __future__ import annotations

from tipfusion.accounts.principal import CENTRAL_ROLES, Principal, Role

EVERYONE = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})
CENTRAL_WORKERS = frozenset({Role.ADMIN, Role.ANALYST})
"""The central unit's analysis work: ingest, link, overrides, referrals, ISP requests (the web's ingest and
analyst actions)."""
CENTRAL_READERS = CENTRAL_ROLES
"""Reads across the whole store (no jurisdiction filter): the web's search, today and queue pages."""
CASE_READERS = EVERYONE - {Role.AUDITOR}
"""Roles that read referrals and cases (within their scope): everyone but the auditor."""
CASE_ACTORS = frozenset({Role.ADMIN, Role.ANALYST, Role.DISTRICT, Role.STATION})
"""Roles that may change a case (within their scope); supervisors and auditors only read."""
AUDIT_READERS = frozenset({Role.AUDITOR, Role.ADMIN})
"""The audit log and its verification."""

COMMANDS: dict[str, frozenset[Role]] = {
    # intake and analysis: the central unit
    "ingest": CENTRAL_WORKERS,
    "quarantine list": CENTRAL_WORKERS,
    "quarantine show": CENTRAL_WORKERS,
    "quarantine retry": CENTRAL_WORKERS,
    "enrich": CENTRAL_WORKERS,
    "link": CENTRAL_WORKERS,
    "override noise": CENTRAL_WORKERS,
    "override split": CENTRAL_WORKERS,
    "override merge": CENTRAL_WORKERS,
    "override list": CENTRAL_READERS,
    "triage": CENTRAL_WORKERS,
    "queue pin": CENTRAL_WORKERS,
    "queue lower": CENTRAL_WORKERS,
    "queue show": CENTRAL_READERS,
    "leads hits": CENTRAL_READERS,
    "route": CENTRAL_WORKERS,
    "route override": CENTRAL_WORKERS,
    "requests build": CENTRAL_WORKERS,
    "requests sent": CENTRAL_WORKERS,
    "requests answer": CENTRAL_WORKERS,
    "requests list": CENTRAL_READERS,
    "refer build": CENTRAL_WORKERS,
    "refer list": CENTRAL_READERS,
    "refer verify": CASE_READERS,  # a station checks the package it received
    "operation create": CENTRAL_WORKERS,
    "operation list": CENTRAL_READERS,
    "operation report": CENTRAL_READERS,
    # known-content hash lists: the central unit loads and matches them; readers see them
    "hashlist import": CENTRAL_WORKERS,
    "hashlist match": CENTRAL_WORKERS,
    "hashlist list": CENTRAL_READERS,
    "hashlist rejects": CENTRAL_READERS,
    "hashlist matches": CENTRAL_READERS,
    # whole-store reads
    "search": CENTRAL_READERS,
    "suspect show": CENTRAL_READERS,
    "network show": CENTRAL_READERS,
    "report show": CENTRAL_READERS,
    "status": CENTRAL_READERS,
    "jurisdictions list": CENTRAL_READERS,
    **{
        f"export {what}": CENTRAL_READERS
        for what in ("reports", "suspects", "networks", "ips", "chart", "routing", "referral", "observations")
    },
    # cases: read and changed within the account's scope (checked again by the case services)
    "cases list": CASE_READERS,
    "cases show": CASE_READERS,
    "cases overdue": CASE_READERS,
    "cases advance": CASE_ACTORS,
    "cases correct": CASE_ACTORS,
    "cases transfer": CENTRAL_WORKERS,  # a station asks for a transfer in the web; the central unit moves a case
    "cases check": CENTRAL_WORKERS,
    # the audit log
    "audit list": AUDIT_READERS,
    "audit verify": AUDIT_READERS,
    "verify": AUDIT_READERS,
    # administration
    "jurisdictions import": ADMINS,
    "jurisdictions demo": ADMINS,
    "keys create": ADMINS,
    "backup": ADMINS,
    "restore": ADMINS,
    "purge": ADMINS,
    "db upgrade": ADMINS,
    "db status": ADMINS,
    "users create": ADMINS,
    "users list": ADMINS,
    "users disable": ADMINS,
    "users password": EVERYONE,  # one's own; another's needs an admin (`may_manage_account`)
    "users token": EVERYONE,  # likewise
    # commands that act on no store, or before a login (they never identify an account)
    "login": EVERYONE,
    "logout": EVERYONE,
    "serve": EVERYONE,
    "demo": EVERYONE,  # its own new SYNTHETIC store, never the configured one
    "synth": EVERYONE,
    "config show": EVERYONE,
    "keys show": EVERYONE,
    "keys export": EVERYONE,  # the public half, meant to be handed out
}

_ROLE_NAMES = {
    Role.ADMIN: "an admin",
    Role.ANALYST: "an analyst",
    Role.SUPERVISOR: "a supervisor",
    Role.DISTRICT: "a district officer",
    Role.STATION: "a station officer",
    Role.AUDITOR: "an auditor",
}


def roles_for(command: str) -> frozenset[Role]:
    """The roles that may run `tipfusion COMMAND` (none for a command the table does not know)."""
    return COMMANDS.get(command, frozenset())


def may_run(principal: Principal, command: str) -> bool:
    return principal.role in roles_for(command)


def may_manage_account(principal: Principal, username: str | None = None) -> bool:
    """Accounts are an admin's, except that anyone may set their own password and take their own API token."""
    if principal.role is Role.ADMIN:
        return True
    return username is not None and username.strip().lower() == principal.username


def refusal(principal: Principal, command: str) -> str:
    """The one line a refused account reads: what was refused, who may do it, and who they are."""
    allowed = [name for role, name in _ROLE_NAMES.items() if role in roles_for(command)]
    who = " or ".join(allowed) if allowed else "no account (unknown command)"
    scope = principal.station or principal.district
    you = f"{principal.username}, {_ROLE_NAMES[principal.role]}" + (f" of {scope}" if scope else "")
    return f"`tipfusion {command}` refused: only {who} may run it (you are {you})"
