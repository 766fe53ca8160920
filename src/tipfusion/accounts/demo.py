"""One SYNTHETIC demo account per role, for `make run` (a synthetic store only).

The passwords are new random ones on every call and are printed once by the caller; the accounts are marked
synthetic in the store. The district and station officers get the district and station with the most referrals, so
their inbox has something in it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from tipfusion.accounts.principal import SYSTEM, Role
from tipfusion.accounts.service import Account, create_user, get_account, set_disabled, set_password
from tipfusion.errors import InputRefused, NotFound
from tipfusion.store import repository as repo
from tipfusion.store.tables import cases, police_stations


@dataclass(frozen=True, slots=True)
class DemoLogin:
    account: Account
    password: str


def _busiest(engine: Engine) -> tuple[str | None, str | None]:
    """(district, station) with the most cases, else the first station of the jurisdiction layer."""
    with engine.connect() as conn:
        row = conn.execute(
            select(cases.c.district, cases.c.station)
            .where(cases.c.station.is_not(None))
            .group_by(cases.c.district, cases.c.station)
            .order_by(func.count().desc(), cases.c.station)
            .limit(1)
        ).first()
        if row is None:
            row = conn.execute(
                select(police_stations.c.district, police_stations.c.station_id)
                .order_by(police_stations.c.station_id)
                .limit(1)
            ).first()
    return (row[0], row[1]) if row else (None, None)


def demo_accounts(engine: Engine) -> list[DemoLogin]:
    """Create (or reset the password of) `demo-<role>` for every role; refused unless the store is synthetic."""
    with engine.connect() as conn:
        if repo.get_flag(conn, "synthetic") != "true":
            raise InputRefused("demo accounts are made only in a SYNTHETIC store (tipfusion demo builds one)")
    district, station = _busiest(engine)
    made: list[DemoLogin] = []
    for role in Role:
        if (role is Role.DISTRICT and not district) or (role is Role.STATION and not station):
            continue  # no jurisdiction layer: no officer accounts
        name = f"demo-{role.value}"
        password = secrets.token_urlsafe(12)
        try:
            existing = get_account(engine, name)
        except NotFound:
            existing = None
        if existing is not None and not existing.synthetic:
            raise InputRefused(f"account {name!r} exists and is not a demo account: left alone")
        if existing is None:
            scope = (
                {"district": district}
                if role is Role.DISTRICT
                else {"station": station}
                if role is Role.STATION
                else {}
            )
            create_user(engine, SYSTEM.username, name, password, role, synthetic=True, **scope)
        else:
            set_password(engine, SYSTEM.username, name, password)
            if existing.disabled:
                set_disabled(engine, SYSTEM.username, name, disabled=False)
        made.append(DemoLogin(get_account(engine, name), password))
    return made
