"""Who can read what tipfusion writes (issue 14 §9): the unit, through tipfusion — not every account on the machine.

The store (the SQLite file with its WAL, shared-memory and journal files), exports, referral packages and backups
hold the personal data of suspects and victims, and the keys beside them sign the record. A file the process creates
is 0600 and a folder 0700, whoever writes it: one umask, set for the length of a command at the CLI's entry (which
`serve` runs under too), so no writer has to remember a mode and a new one cannot forget it. SQLite gives its WAL
and shared-memory files the database file's own mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

PRIVATE_UMASK = 0o077  # group and others: nothing
FILE_MODE = 0o600
FOLDER_MODE = 0o700


@contextmanager
def private_files() -> Iterator[None]:
    """Everything created inside is readable by this account only; the umask before is restored after."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
