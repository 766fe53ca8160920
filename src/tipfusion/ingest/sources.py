"""Finding documents: files, directories (recursive) and `.zip` batches, each read byte for byte.

A batch is hostile until read: nothing here follows a path out of the folder it was given, opens anything but a
regular file (a FIFO would hang, `/dev/zero` never ends), reads past a size limit (the limit is enforced while
reading, so a sparse 8 GB file is never read whole), or lets one archive expand past its limits. Whatever cannot
be read becomes one rejected item with its reason; whatever is deliberately not read becomes a `Skipped` item.
Neither stops the batch.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tipfusion.config import XmlLimits
from tipfusion.errors import DocumentRejected

_CHUNK = 1 << 20


@dataclass(slots=True)
class Document:
    """One source document: its name as received, its bytes (loaded on demand) and where it came from."""

    name: str
    load: Callable[[], bytes]
    container: str | None = None  # sha256 of the zip it was read from
    size_hint: int | None = None


@dataclass(slots=True)
class LoadedDocument:
    name: str
    data: bytes
    sha256: str
    container: str | None = None

    @classmethod
    def of(cls, document: Document) -> LoadedDocument:
        data = document.load()
        return cls(document.name, data, hashlib.sha256(data).hexdigest(), document.container)


@dataclass(slots=True)
class BrokenContainer:
    """Something that cannot be read: a zip that cannot be opened (kept whole and quarantined), or a file or zip
    member whose bytes could not be read (its `document` has no bytes; a member's entry points into its zip)."""

    document: LoadedDocument
    error: DocumentRejected


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the batch deliberately not read (a link out of the batch, a FIFO, the store's own file)."""

    name: str
    reason: str


Item = Document | LoadedDocument | BrokenContainer | Skipped


def iter_documents(paths: list[Path], limits: XmlLimits, exclude: Collection[str] = ()) -> Iterator[Item]:
    """Yield every document under `paths` in a stable order.

    A zip yields itself first (a LoadedDocument with format 'zip', kept byte for byte) and then its members;
    a zip that cannot be read yields a BrokenContainer. `exclude` holds real paths never read (the store's files).
    """
    excluded = {os.path.realpath(p) for p in exclude}
    folders: dict[str, str] = {}  # each folder's real path, resolved once (see _real)
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise FileNotFoundError(f"{given}: no such file or directory")
        root = os.path.realpath(given)
        for path, skipped in _walk(str(given)):
            if skipped:
                yield Skipped(path, skipped)
                continue
            name = os.path.basename(path)
            if name.startswith("."):
                continue
            yield from _one_file(path, root, limits, excluded, folders)


def _walk(top: str) -> Iterator[tuple[str, str]]:
    """Every entry under `top` in a stable (sorted) order, with why it is skipped (empty: read it). Plain strings,
    as path objects are slow at this scale. Linked folders are not entered (they may lead anywhere)."""
    if not os.path.isdir(top):
        yield top, ""
        return
    for folder, dirs, names in os.walk(top):
        dirs.sort()
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)):
                yield os.path.join(folder, name), "a link to a folder: not followed"
        for name in sorted(names):
            yield os.path.join(folder, name), ""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _real(path: str, folders: dict[str, str]) -> str:
    """`os.path.realpath(path)`, with its folder resolved once for all the files in it: a path whose last step is not
    a link is its folder's real path and its name. realpath checks every step of every path (five lstat calls a
    document in a batch folder: 1.1 s of the ingest's 11.9 s of main-process CPU at 20,000 reports)."""
    folder, name = os.path.split(path)
    try:
        last_is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:  # gone or unreadable: realpath says what it can, and the stat that follows reports it
        last_is_link = True
    if last_is_link or not name:
        return os.path.realpath(path)
    if folder not in folders:
        folders[folder] = os.path.realpath(folder)
    return os.path.join(folders[folder], name)


def _one_file(path: str, root: str, limits: XmlLimits, excluded: set[str], folders: dict[str, str]) -> Iterator[Item]:
    real = _real(path, folders)
    if not _inside(real, root):
        yield Skipped(path, "a link pointing outside the batch folder: not read")
        return
    if real in excluded:
        yield Skipped(path, "the store's own file: not read")
        return
    try:
        status = os.stat(real)
    except OSError as exc:
        why = "a link to nothing (its target does not exist)" if os.path.islink(path) else _os_reason(exc)
        yield _unread(path, None, "unreadable", f"cannot read the file: {why}", "a readable file")
        return
    if not stat.S_ISREG(status.st_mode):
        yield Skipped(path, "not a regular file (a FIFO, device or socket): not read")
        return
    is_zip = path.lower().endswith(".zip")
    # a document over its own limit is still read (up to what the store keeps whole, the archive limit) so that its
    # quarantine entry keeps its bytes and a retry with a raised limit works; past that it is never read at all
    cap = limits.max_archive_bytes
    if status.st_size > cap:
        yield _too_large(path, None, status.st_size, is_zip, cap)
        return
    if not is_zip:
        yield Document(path, FileReader(real, path, cap), size_hint=status.st_size)
        return
    try:
        data = FileReader(real, path, cap)()
    except DocumentRejected as exc:
        yield BrokenContainer(LoadedDocument(path, b"", ""), exc)
        return
    yield from iter_zip(path, data, limits)


class FileReader:
    """A file's bytes, read when asked: the path checked in pass 1 (`real`, opened without following a link), the name
    it was received as (`label`, for messages) and the size limit. A class rather than a closure so that pass 1's
    ledger can keep it as three values on disk and make it again (`tipfusion.ingest.ledger`)."""

    __slots__ = ("cap", "label", "real")

    def __init__(self, real: str, label: str, cap: int) -> None:
        self.real = real
        self.label = label
        self.cap = cap

    def __call__(self) -> bytes:
        real, label, cap = self.real, self.label, self.cap
        try:
            # no link followed at the last step, no blocking open (a FIFO swapped in after the check)
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise _rejected(label, "unreadable", f"cannot read the file: {_os_reason(exc)}", "a readable file") from exc
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise _rejected(label, "unreadable", "no longer a regular file", "a regular file")
            return _read_capped(_Descriptor(fd), label, cap, label.lower().endswith(".zip"), status.st_size)
        except OSError as exc:
            raise _rejected(label, "unreadable", f"cannot read the file: {_os_reason(exc)}", "a readable file") from exc
        finally:
            os.close(fd)


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes | None: ...


class _Descriptor:
    """An open file read with `os.read`: a batch is thousands of small files, each read twice, and the file object
    `os.fdopen` makes for each cost as much as the read (~4 of ~9 µs a file)."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, size: int, /) -> bytes:
        return os.read(self.fd, size)


def _read_capped(handle: _Readable, label: str, cap: int, is_zip: bool, expected: int = 0) -> bytes:
    """Read to the end, but never more than `cap` + 1 bytes (the size on disk may lie: a growing file, a device).

    The size on disk (`expected`) is asked for in one read, so a file that is what it says is read into one bytes
    object and never joined from chunks: the join held a 56 MiB document twice."""
    parts: list[bytes] = []
    size = 0
    first = min(expected, cap) + 1 if expected > 0 else _CHUNK
    while True:
        chunk = handle.read(min(first if not parts else _CHUNK, cap + 1 - size))
        if not chunk:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            raise _too_large_error(label, None, is_zip, cap)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _rejected(label: str, reason: str, message: str, expected: str) -> DocumentRejected:
    return DocumentRejected(label, reason, message, expected=expected)


def _unread(label: str, container: str | None, reason: str, message: str, expected: str) -> BrokenContainer:
    return BrokenContainer(LoadedDocument(label, b"", "", container), _rejected(label, reason, message, expected))


def _too_large_error(label: str, size: int | None, is_zip: bool, cap: int) -> DocumentRejected:
    """`cap` is the archive limit for zips and whole files, the document limit for a zip's other members."""
    what = "archive" if is_zip else "document"
    variable = "TIPFUSION_MAX_ARCHIVE_BYTES" if is_zip or "!" not in label else "TIPFUSION_MAX_DOCUMENT_BYTES"
    told = f"is {size:,} bytes" if size is not None else "is larger"
    return _rejected(
        label,
        "too_large",
        f"{what} {told}, over the limit of {cap:,} bytes (not read)",
        f"a smaller {what}, or raise {variable}",
    )


def _too_large(label: str, container: str | None, size: int, is_zip: bool, cap: int) -> BrokenContainer:
    return BrokenContainer(LoadedDocument(label, b"", "", container), _too_large_error(label, size, is_zip, cap))


class _Budget:
    """What one archive (with every zip nested in it) may still expand to: the smaller of an absolute limit and a
    multiple of the outermost archive's size. Members are charged their declared size, which is safe: `zipfile`
    never returns more than the declared size (a member that lies fails its CRC check)."""

    def __init__(self, archive_bytes: int, limits: XmlLimits) -> None:
        by_ratio = limits.max_zip_ratio * max(archive_bytes, 1)
        self.limit = min(limits.max_archive_expanded_bytes, by_ratio)
        self.by_ratio = by_ratio < limits.max_archive_expanded_bytes
        self.ratio = limits.max_zip_ratio
        self.left = self.limit

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True

    def refusal(self, label: str) -> DocumentRejected:
        if self.by_ratio:
            message = f"the archive expands past {self.ratio}× its own size ({self.limit:,} bytes); rest not read"
            expected = "an archive that compresses less (or raise TIPFUSION_MAX_ZIP_RATIO)"
        else:
            message = f"the archive expands past {self.limit:,} bytes; the rest is not read"
            expected = "a smaller archive, or raise TIPFUSION_MAX_ARCHIVE_EXPANDED_BYTES"
        return _rejected(label, "archive_limit", message, expected)


def _member_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, max_bytes: int) -> Callable[[], bytes]:
    def load() -> bytes:
        if info.file_size > max_bytes:
            raise _too_large_error(label, info.file_size, False, max_bytes)
        try:
            with archive.open(info) as handle:
                data = handle.read(max_bytes + 1)
        # zipfile raises NotImplementedError for a compression method it cannot decode (deflate64, implode, …)
        # and RuntimeError for an encrypted member: that member is unreadable input, quarantined like a corrupt one
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
            raise _rejected(
                label, "corrupt_zip_member", f"cannot read zip member: {exc}", "an intact zip member"
            ) from exc
        if len(data) > max_bytes:
            raise _rejected(
                label,
                "too_large",
                "zip member expands past the size limit",
                "a smaller member, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
            )
        return data

    return load


def iter_zip(
    label: str, data: bytes, limits: XmlLimits, depth: int = 0, budget: _Budget | None = None
) -> Iterator[Document | LoadedDocument | BrokenContainer]:
    loaded = LoadedDocument(label, data, hashlib.sha256(data).hexdigest())
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        yield BrokenContainer(
            loaded, _rejected(label, "corrupt_zip", f"cannot open zip: {exc}", "a complete, readable .zip archive")
        )
        return
    yield loaded
    budget = budget or _Budget(len(data), limits)
    for info in members:
        base = info.filename.rsplit("/", 1)[-1]
        if base.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue
        member_label = f"{label}!{info.filename}"
        is_zip = info.filename.lower().endswith(".zip")
        if info.flag_bits & 0x1:
            yield _unread(
                member_label,
                loaded.sha256,
                "encrypted_zip_member",
                "zip member is encrypted (password-protected)",
                "an unencrypted member (ask the sender for the files without a password)",
            )
            continue
        cap = limits.max_archive_bytes if is_zip else limits.max_document_bytes
        if info.file_size > cap:
            yield _too_large(member_label, loaded.sha256, info.file_size, is_zip, cap)
            continue
        if not budget.take(info.file_size):
            yield BrokenContainer(LoadedDocument(member_label, b"", "", loaded.sha256), budget.refusal(member_label))
            continue
        if is_zip:
            if depth + 1 > limits.max_zip_depth:
                yield _unread(
                    member_label,
                    loaded.sha256,
                    "zip_too_deep",
                    f"a zip inside {depth + 1} zip(s): deeper than the limit of {limits.max_zip_depth}",
                    "zips nested less deeply (unpack them first), or raise TIPFUSION_MAX_ZIP_DEPTH",
                )
                continue
            try:
                inner = _member_reader(archive, info, member_label, cap)()
            except DocumentRejected as exc:
                yield BrokenContainer(LoadedDocument(member_label, b"", "", loaded.sha256), exc)  # unread: no sha
                continue
            yield from iter_zip(member_label, inner, limits, depth + 1, budget)
            continue
        yield Document(
            member_label,
            _member_reader(archive, info, member_label, limits.max_document_bytes),
            container=loaded.sha256,
            size_hint=info.file_size,
        )
