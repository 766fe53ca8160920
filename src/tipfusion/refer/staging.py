"""Where a referral package is written until the store has it: a hidden sibling of its folder, renamed into place
only after the commit, so a build killed at any moment (kill -9, power cut) never leaves a half-written package, or a
sealed one the store has no record of, under a package's name.

The work folder `.partial-<name>-<random>` is held with an exclusive `flock` for as long as its builder lives (the
kernel drops the lock when the process dies, however it dies). The next build into the same output clears what a
dead builder left: a work folder whose sealed manifest the store has on record is moved to its name (the builder was
killed between its commit and the rename), anything else is removed (its referral was never committed). An output
folder belongs to one store: a work folder another store recorded would be removed as never committed.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tipfusion.documents.manifest import MANIFEST, digest_of, refuse_occupied

PREFIX = ".partial-"


class Staging:
    """One package's work folder. Enter it before the transaction that records the referral,
    `with Staging() as staging, engine.begin() as conn:`, and write into `staging.begin(final)`: leaving the block
    commits, then moves the package to its name; an error anywhere in it (the commit's too) removes the work folder.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self.final: Path | None = None
        self._lock: int | None = None

    def begin(self, final: Path) -> Path:
        """A fresh, locked work folder beside `final`, which must not hold a package already."""
        refuse_occupied(final)  # an empty folder may stay: the rename replaces it
        final.parent.mkdir(parents=True, exist_ok=True)
        self.final = final
        self.path = final.parent / f"{PREFIX}{final.name}-{secrets.token_hex(4)}"
        self.path.mkdir()
        self._lock = os.open(self.path, os.O_RDONLY)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        return self.path

    def publish(self) -> None:
        """The store has committed the referral: the package takes its name."""
        assert self.path is not None and self.final is not None
        self.path.rename(self.final)

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self.path is not None and error is None:
                self.publish()  # if this fails, the work folder stays for the next build to move (it is on record)
            elif self.path is not None:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            if self._lock is not None:
                os.close(self._lock)  # releases the flock


def clear_leftovers(output: Path, recorded: Callable[[str], bool]) -> list[Path]:
    """Finish or remove the work folders in `output` whose builders are dead; the packages moved into place.

    `recorded(sha256)` says whether the store holds a referral with that manifest. Call it while holding the
    referral builders' lock, so no live build of this store is between its start and its commit.
    """
    moved: list[Path] = []
    if not output.is_dir():
        return moved
    for work in sorted(output.glob(PREFIX + "*")):
        if not work.is_dir() or work.is_symlink():
            continue
        handle = os.open(work, os.O_RDONLY)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its builder is alive (committed, about to rename)
            manifest = work / MANIFEST
            final = output / work.name[len(PREFIX) :].rsplit("-", 1)[0]
            if manifest.is_file() and recorded(digest_of(manifest)):
                if not final.exists():
                    work.rename(final)
                    moved.append(final)
            else:
                shutil.rmtree(work)
        finally:
            os.close(handle)
    return moved
