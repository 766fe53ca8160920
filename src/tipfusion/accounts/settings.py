"""`[sessions]`: how long a session lives and how hard a login is to guess — the unit's own security policy.

Whole numbers in the unit a person thinks in (minutes, hours), validated by `tipfusion.tuning` like the other
sections and shown by `tipfusion config show sessions`; `policy()` turns them into the `Policy` the account service
applies (the web application and the command line alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from annotated_types import Ge

if TYPE_CHECKING:
    from tipfusion.accounts.service import Policy


@dataclass(frozen=True, slots=True)
class SessionSettings:
    idle_timeout_minutes: Annotated[int, Ge(1)] = 30  # a web session unused this long is over
    max_age_hours: Annotated[int, Ge(1)] = 12  # a web session ends this long after login, used or not
    cli_idle_timeout_hours: Annotated[int, Ge(1)] = 12  # a terminal session (`tipfusion login`) unused this long
    max_failures: Annotated[int, Ge(1)] = 5  # consecutive wrong passwords before the account locks
    lockout_minutes: Annotated[int, Ge(1)] = 15
    # one client address failing this often within the window, whatever accounts it tries, is refused for a while
    client_max_failures: Annotated[int, Ge(1)] = 20
    client_window_minutes: Annotated[int, Ge(1)] = 15
    client_block_minutes: Annotated[int, Ge(1)] = 15

    def policy(self) -> Policy:
        from tipfusion.accounts.service import Policy

        return Policy(
            max_failures=self.max_failures,
            lockout=timedelta(minutes=self.lockout_minutes),
            idle_timeout=timedelta(minutes=self.idle_timeout_minutes),
            cli_idle_timeout=timedelta(hours=self.cli_idle_timeout_hours),
            max_age=timedelta(hours=self.max_age_hours),
            client_max_failures=self.client_max_failures,
            client_window=timedelta(minutes=self.client_window_minutes),
            client_block=timedelta(minutes=self.client_block_minutes),
        )
