"""Accounts: create them, check a password, keep sessions and API tokens — the one place both shells call.

The web application and the command line authenticate through these functions, so a lockout, a disabled account or
a logout means the same thing everywhere. Nothing secret is kept in the clear: passwords as argon2id hashes
(argon2-cffi), session and API tokens as SHA-256 digests (they are 256 random bits, so a fast hash is enough; a
stolen table cannot be replayed). Every change to an account, every login, failure and lockout is an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tipfusion import clock
from tipfusion.accounts.principal import Principal, Role
from tipfusion.audit import UnitOfWork
from tipfusion.errors import InputRefused, NotFound, TipfusionError, UnknownValue
from tipfusion.store.db import one_statement
from tipfusion.store.tables import api_tokens, login_throttle, police_stations, store_flags, user_sessions, users

if TYPE_CHECKING:
    from argon2 import PasswordHasher

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is a denial of service, not a password
SessionKind = Literal["web", "cli"]


@dataclass(frozen=True, slots=True)
class Policy:
    """How hard a login is to guess and how long a session lives (the unit may tighten them)."""

    max_failures: int = 5  # consecutive wrong passwords before the account locks
    lockout: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(minutes=30)  # a web session unused this long is over
    cli_idle_timeout: timedelta = timedelta(hours=12)  # a terminal session (`tipfusion login`)
    max_age: timedelta = timedelta(hours=12)  # a web session ends this long after login, used or not
    touch_every: timedelta = timedelta(seconds=60)  # last_seen is written at most this often (one write per minute)
    # one client address that fails this often within `client_window`, across any accounts, is refused for
    # `client_block` (a password sprayed over many accounts never trips any one account's lockout)
    client_max_failures: int = 20
    client_window: timedelta = timedelta(minutes=15)
    client_block: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = Policy()


class AuthenticationFailed(TipfusionError):
    """Wrong username or password, a locked or disabled account: one message for all, so none can be probed."""

    exit_code = 1

    def __init__(self, message: str = "wrong username or password, or the account is locked or disabled") -> None:
        super().__init__(message)


class ClientThrottled(AuthenticationFailed):
    """Too many failed logins from one address: refused for a while, whatever the account (it says nothing about
    any account, so it may say what happened)."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed logins from this address: try again later")
        self.until = until


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the admin pages and `users list` show it (never its hash)."""

    id: int
    username: str
    role: Role
    district: str | None
    station: str | None
    disabled: bool
    locked_until: datetime | None
    synthetic: bool
    created_at: datetime

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.district, self.station)


@dataclass(frozen=True, slots=True)
class Session:
    """A live session: who, and the token its forms must carry."""

    principal: Principal
    csrf_token: str
    kind: SessionKind
    # the store's synthetic flag, read in the same statement as the session (every page shows it); None: not read
    synthetic: bool | None = None


@cache
def _hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile); loaded on first use, not at CLI start."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the username does not exist, so the answer takes as long either way."""
    return _hasher().hash(secrets.token_urlsafe(16))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_accounts(engine: Engine) -> bool:
    """Whether the store has any account: then the command line must act as one (see `cli.identity`)."""
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(users)).scalar_one())


# -- administration -------------------------------------------------------------------------------------------------
def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputRefused(f"a password needs at least {MIN_PASSWORD} characters", "password")
    if len(password) > MAX_PASSWORD:
        raise InputRefused(f"a password has at most {MAX_PASSWORD} characters", "password")


def _scope(conn: Connection, role: Role, district: str | None, station: str | None) -> tuple[str | None, str | None]:
    """The jurisdiction a role needs, checked against the stations the store holds (a typo must not make an account
    that sees nothing). A station officer's district is looked up, never given."""
    if role is Role.DISTRICT:
        if not district or station:
            raise InputRefused("a district officer needs --district and no --station", "district")
        known = conn.execute(select(police_stations.c.district).where(police_stations.c.district == district)).first()
        if known is None:
            raise UnknownValue(
                f"district {district!r} is not in the store's jurisdiction layer (import it first: "
                "tipfusion jurisdiction import)",
                "district",
            )
        return district, None
    if role is Role.STATION:
        if not station:
            raise InputRefused("a station officer needs --station", "station")
        row = conn.execute(
            select(police_stations.c.district).where(police_stations.c.station_id == station)
        ).scalar_one_or_none()
        if row is None:
            raise UnknownValue(
                f"station {station!r} is not in the store's jurisdiction layer (import it first: "
                "tipfusion jurisdiction import)",
                "station",
            )
        if district and district != row:
            raise InputRefused(f"station {station!r} is in district {row!r}, not {district!r}", "district")
        return None, station
    if district or station:
        raise InputRefused(f"the {role} role sees the whole force: give no district or station", "role")
    return None, None


def create_user(
    engine: Engine,
    actor: str,
    username: str,
    password: str,
    role: Role | str,
    *,
    district: str | None = None,
    station: str | None = None,
    synthetic: bool = False,
) -> Account:
    """A new account. Refused (with the field named) for a bad name, a short password, a role without its
    jurisdiction, or a name already taken."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InputRefused(
            f"username {username!r}: 2-80 characters, lowercase letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            "username",
        )
    try:
        role = Role(role)
    except ValueError:
        raise InputRefused(f"role {role!r}: expected one of {', '.join(r.value for r in Role)}", "role") from None
    check_password(password)
    hashed = _hasher().hash(password)
    now = clock.now()
    with UnitOfWork(engine, actor, now) as uow:
        conn = uow.conn
        district, station = _scope(conn, role, district, station)
        if conn.execute(select(users.c.id).where(users.c.username == name)).first():
            raise InputRefused(f"username {name!r} is taken", "username")
        conn.execute(
            insert(users)
            .values(
                username=name,
                password_hash=hashed,
                role=role.value,
                district=district,
                station=station,
                disabled=False,
                failed_attempts=0,
                synthetic=synthetic,
                created_at=now,
                password_changed_at=now,
            )
            .returning(users.c.id)
        ).scalar_one()
        details: dict[str, Any] = {"role": role.value, "district": district, "station": station}
        if synthetic:
            details["synthetic"] = True
        uow.record("account.created", "account", name, details)
    return get_account(engine, name)


def _account(row: Any) -> Account:
    return Account(
        id=int(row.id),
        username=row.username,
        role=Role(row.role),
        district=row.district,
        station=row.station,
        disabled=bool(row.disabled),
        locked_until=row.locked_until,
        synthetic=bool(row.synthetic),
        created_at=row.created_at,
    )


def get_account(engine: Engine, username: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        raise NotFound(f"no account named {username!r}")
    return _account(row)


def list_accounts(engine: Engine) -> Sequence[Account]:
    with engine.connect() as conn:
        return [_account(row) for row in conn.execute(select(users).order_by(users.c.username))]


def set_disabled(engine: Engine, actor: str, username: str, disabled: bool = True) -> Account:
    """Disable (or enable again) an account; disabling ends its sessions and API tokens at once."""
    account = get_account(engine, username)
    now = clock.now()
    with UnitOfWork(engine, actor, now) as uow:
        conn = uow.conn
        conn.execute(update(users).where(users.c.id == account.id).values(disabled=disabled, failed_attempts=0))
        if disabled:
            conn.execute(delete(user_sessions).where(user_sessions.c.user_id == account.id))
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.user_id == account.id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        action = "account.disabled" if disabled else "account.enabled"
        uow.record(action, "account", account.username)
    return get_account(engine, username)


def set_password(engine: Engine, actor: str, username: str, password: str) -> None:
    """A new password (and the lock lifted); the account's other sessions end."""
    check_password(password)
    account = get_account(engine, username)
    hashed = _hasher().hash(password)
    now = clock.now()
    with UnitOfWork(engine, actor, now) as uow:
        uow.conn.execute(
            update(users)
            .where(users.c.id == account.id)
            .values(password_hash=hashed, password_changed_at=now, failed_attempts=0, locked_until=None)
        )
        uow.conn.execute(delete(user_sessions).where(user_sessions.c.user_id == account.id))
        uow.record("account.password_set", "account", account.username)


# -- authentication -------------------------------------------------------------------------------------------------
def authenticate(
    engine: Engine,
    username: str,
    password: str,
    *,
    policy: Policy = DEFAULT_POLICY,
    channel: str = "web",
    client: str | None = None,
) -> Account:
    """The account whose password this is, or AuthenticationFailed (the same words for every reason).

    Consecutive failures lock the account for `policy.lockout` after `policy.max_failures`; while locked, even the
    right password is refused. Failures from one `client` address (the web's remote address) are counted across
    accounts too: past `policy.client_max_failures` within `policy.client_window`, every login from it is refused
    for `policy.client_block` without a password being checked. Each success, failure, lock and throttle is audited
    (never the password).
    """
    name = username.strip().lower()[:80]
    now = clock.now()
    seen = {"channel": channel, **({"client": client} if client else {})}
    blocked = _client_blocked(engine, client, now) if client else None
    if blocked is not None:
        _record(engine, name, "account.login_failed", {**seen, "why": "client throttled"}, now)
        raise ClientThrottled(blocked)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
    if row is None or len(password) > MAX_PASSWORD:
        _verify(_dummy_hash(), password[:MAX_PASSWORD])
        _record(engine, name, "account.login_failed", {**seen, "why": "unknown account"}, now)
        _client_failed(engine, client, policy, now)
        raise AuthenticationFailed()
    if row.disabled:
        _record(engine, name, "account.login_failed", {**seen, "why": "disabled"}, now)
        _client_failed(engine, client, policy, now)
        raise AuthenticationFailed()
    if row.locked_until is not None and row.locked_until > now:
        _record(engine, name, "account.login_failed", {**seen, "why": "locked"}, now)
        _client_failed(engine, client, policy, now)
        raise AuthenticationFailed()
    if not _verify(row.password_hash, password):
        failures = int(row.failed_attempts) + 1
        locked = failures >= policy.max_failures
        with UnitOfWork(engine, name, now) as uow:
            uow.conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(
                    failed_attempts=0 if locked else failures,
                    locked_until=now + policy.lockout if locked else row.locked_until,
                )
            )
            uow.record("account.login_failed", "account", name, {**seen, "why": "password"})
            if locked:
                until = (now + policy.lockout).isoformat()
                uow.record("account.locked", "account", name, {"until": until, "failures": failures})
        _client_failed(engine, client, policy, now)
        raise AuthenticationFailed()
    with UnitOfWork(engine, name, now) as uow:
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
        if _hasher().check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher().hash(password)
        uow.conn.execute(update(users).where(users.c.id == row.id).values(**values))
        uow.record("account.login", "account", name, seen)
    return get_account(engine, name)


def _client_blocked(engine: Engine, client: str, now: datetime) -> datetime | None:
    """Until when logins from this address are refused (None: they are not)."""
    with engine.connect() as conn:
        until = conn.execute(
            select(login_throttle.c.blocked_until).where(login_throttle.c.client == client[:64])
        ).scalar_one_or_none()
    return until if until is not None and until > now else None


def _client_failed(engine: Engine, client: str | None, policy: Policy, now: datetime) -> None:
    """Count a failed login against its client address (in the store, so every server worker counts together);
    at the threshold, block the address and audit `login.throttled`. A success does not reset the count: one valid
    account must not let a client go on guessing the others."""
    if not client:
        return
    key = client[:64]
    t = login_throttle
    stale = t.c.window_start < now - policy.client_window
    for _attempt in range(2):  # a concurrent first failure from the same address may insert the row first
        try:
            with UnitOfWork(engine, "(login)", now) as uow:
                conn = uow.conn
                counted = conn.execute(
                    update(t)
                    .where(t.c.client == key)
                    .values(
                        failures=case((stale, 1), else_=t.c.failures + 1),
                        window_start=case((stale, now), else_=t.c.window_start),
                    )
                ).rowcount
                if not counted:
                    conn.execute(insert(t).values(client=key, window_start=now, failures=1))
                row = conn.execute(select(t).where(t.c.client == key)).one()
                if row.failures < policy.client_max_failures:
                    return
                until = now + policy.client_block
                conn.execute(update(t).where(t.c.client == key).values(blocked_until=until, failures=0))
                details = {"until": until.isoformat(), "failures": int(row.failures)}
                uow.record("login.throttled", "client", key, details)
                return
        except IntegrityError:
            continue


def _verify(hashed: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _record(engine: Engine, name: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """A refused login on record: the actor is the name that was tried (it is who claimed to act)."""
    with UnitOfWork(engine, name or "(empty)", now) as uow:
        uow.record(action, "account", name or "(empty)", details)


# -- sessions -------------------------------------------------------------------------------------------------------
def open_session(engine: Engine, account: Account, kind: SessionKind = "web") -> tuple[str, Session]:
    """A new session for an authenticated account: (the token to hand the client, the session). Only the token's
    digest is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = clock.now()
    with UnitOfWork(engine, account.username) as uow:  # no entry: the login that opens it is already on record
        uow.conn.execute(
            insert(user_sessions).values(
                token_hash=digest(token),
                user_id=account.id,
                kind=kind,
                csrf_secret=csrf,
                created_at=now,
                last_seen=now,
            )
        )
    return token, Session(account.principal(), csrf, kind)


def resume_session(engine: Engine, token: str, *, policy: Policy = DEFAULT_POLICY) -> Session | None:
    """The session this token opens, or None when it is unknown, idle too long, too old, or its account is disabled
    or locked (a stale session is deleted)."""
    if not token or len(token) > 200:
        return None
    now = clock.now()
    synthetic = select(store_flags.c.value).where(store_flags.c.name == "synthetic").scalar_subquery()
    with one_statement(engine) as conn:
        row = conn.execute(
            select(
                synthetic.label("synthetic"),
                user_sessions.c.id,
                user_sessions.c.kind,
                user_sessions.c.csrf_secret,
                user_sessions.c.created_at,
                user_sessions.c.last_seen,
                users.c.username,
                users.c.role,
                users.c.district,
                users.c.station,
                users.c.disabled,
            )
            .join(users, users.c.id == user_sessions.c.user_id)
            .where(user_sessions.c.token_hash == digest(token))
        ).first()
    if row is None:
        return None
    idle = policy.cli_idle_timeout if row.kind == "cli" else policy.idle_timeout
    expired = now - row.last_seen > idle or (row.kind == "web" and now - row.created_at > policy.max_age)
    if row.disabled or expired:
        with UnitOfWork(engine, row.username) as uow:  # bookkeeping, no entry: the session simply lapsed
            uow.conn.execute(delete(user_sessions).where(user_sessions.c.id == row.id))
        return None
    if now - row.last_seen > policy.touch_every:
        with UnitOfWork(engine, row.username) as uow:  # bookkeeping, no entry
            uow.conn.execute(update(user_sessions).where(user_sessions.c.id == row.id).values(last_seen=now))
    principal = Principal(row.username, Role(row.role), row.district, row.station)
    return Session(principal, row.csrf_secret, row.kind, row.synthetic == "true")


def close_session(engine: Engine, token: str) -> str | None:
    """End a session (logout); returns the account's name when there was one, and audits the logout."""
    now = clock.now()
    with UnitOfWork(engine, "(logout)", now) as uow:
        conn = uow.conn
        row = conn.execute(
            select(user_sessions.c.id, user_sessions.c.kind, users.c.username)
            .join(users, users.c.id == user_sessions.c.user_id)
            .where(user_sessions.c.token_hash == digest(token))
        ).first()
        if row is None:
            return None
        conn.execute(delete(user_sessions).where(user_sessions.c.id == row.id))
        uow.actor = row.username  # who logged out is known only once the token is looked up
        uow.record("account.logout", "account", row.username, {"channel": row.kind})
        return str(row.username)


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# -- API tokens -----------------------------------------------------------------------------------------------------
def issue_token(engine: Engine, actor: str, username: str, label: str = "api") -> str:
    """A new bearer token for the account (printed once by the caller; only its digest is kept). Its scope is the
    account's role and jurisdiction, now and later."""
    account = get_account(engine, username)
    if account.disabled:
        raise InputRefused(f"account {account.username!r} is disabled", "username")
    token = "tfa_" + secrets.token_urlsafe(32)
    now = clock.now()
    with UnitOfWork(engine, actor, now) as uow:
        uow.conn.execute(
            insert(api_tokens).values(
                token_hash=digest(token), user_id=account.id, label=label[:120] or "api", created_at=now
            )
        )
        uow.record("account.token_issued", "account", account.username, {"label": label})
    return token


def principal_for_token(engine: Engine, token: str) -> Principal | None:
    """The account a bearer token acts as, or None (unknown, revoked, or its account disabled)."""
    if not token or len(token) > 200:
        return None
    now = clock.now()
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.id, api_tokens.c.last_used, users.c.username, users.c.role, users.c.district)
            .add_columns(users.c.station)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(
                api_tokens.c.token_hash == digest(token),
                api_tokens.c.revoked_at.is_(None),
                users.c.disabled.is_(False),
            )
        ).first()
    if row is None:
        return None
    if row.last_used is None or now - row.last_used > DEFAULT_POLICY.touch_every:
        with UnitOfWork(engine, row.username) as uow:  # bookkeeping, no entry
            uow.conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used=now))
    return Principal(row.username, Role(row.role), row.district, row.station)
