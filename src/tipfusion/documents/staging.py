"""Where a sealed folder (a referral package, an ISP or platform notice) is written until the store has it: a hidden
sibling of its folder, renamed into place only after the commit, so a build killed at any moment (kill -9, power cut)
never leaves a half-written package, or a sealed one the store has no record of, under a package's name.

The work folder `.partial-<name>-<random>` is held with an exclusive `flock` for as long as its builder lives (the
kernel drops the lock when the process dies, however it dies). The next build into the same output clears what a
dead builder left: a work folder whose sealed bag the store has on record is moved to its name (the builder was
killed between its commit and the rename), anything else is removed (its row was never committed). An output
folder belongs to one store: a work folder another store recorded would be removed as never committed.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from tipfusion.documents.manifest import MANIFEST, refuse_occupied

PREFIX = ".partial-"


class Staging:
    """One package's work folder. Enter it before the unit of work that records the package,
    `with Staging() as staging, UnitOfWork(engine, actor) as uow:`, and write into `staging.begin(final)`: leaving
    the block commits, then moves the package to its name; an error anywhere in it (the commit's too) removes the work
    folder.
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
        """The store has committed the package's row: the package takes its name."""
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


def clear_leftovers(output: Path, recorded: Callable[[Path, str], bool]) -> list[Path]:
    """Finish or remove the work folders in `output` whose builders are dead; the packages moved into place.

    `recorded(work, name)` says whether the store holds the sealed bag in `work` as the package `name` (a work
    folder is asked only once its payload manifest exists). Call it while holding the builders' lock (the one the
    builders of this kind of package take before `Staging.begin`), so no live build of this store is between
    creating its work folder and locking it.
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
            final = output / work.name[len(PREFIX) :].rsplit("-", 1)[0]
            if (work / MANIFEST).is_file() and recorded(work, final.name):
                if not final.exists():
                    work.rename(final)
                    moved.append(final)
            else:
                shutil.rmtree(work)
        finally:
            os.close(handle)
    return moved


@contextmanager
def staged_file(final: Path) -> Iterator[Path]:
    """A one-file output (an export, an operation report) written under a hidden name beside `final` and renamed
    over it when the block ends without error (after the audit entry that records it has committed, when that is
    inside the block): a killed export leaves no half-written file under its name, and an error leaves the file that
    was there before. The hidden file keeps `final`'s suffix (some writers choose their format by it) and is held
    with a `flock` while its writer lives; what a dead writer left beside the same name is removed first."""
    if final.exists() and not final.is_file():
        # a device (/dev/full, /dev/stdout), a FIFO or a folder: written in place; a rename would replace the device
        # node itself (as root, /dev/full became a regular file) and a folder is not one file
        yield final
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    for left in final.parent.glob(f"{PREFIX}{final.name}-*"):
        _remove_if_dead(left)
    work = final.parent / f"{PREFIX}{final.name}-{secrets.token_hex(4)}{final.suffix}"
    handle = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield work
        except BaseException:
            work.unlink(missing_ok=True)
            raise
        os.replace(work, final)
    finally:
        os.close(handle)


def _remove_if_dead(left: Path) -> None:
    if not left.is_file() or left.is_symlink():
        return
    handle = os.open(left, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # its writer is alive
    else:
        left.unlink(missing_ok=True)
    finally:
        os.close(handle)
