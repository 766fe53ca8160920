"""Finding documents: files, directories (recursive) and `.zip` batches, each read byte for byte."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tipfusion.errors import DocumentRejected


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
    """A zip that cannot be opened or read: the zip itself is kept and quarantined."""

    document: LoadedDocument
    error: DocumentRejected


def _member_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, max_bytes: int) -> Callable[[], bytes]:
    def load() -> bytes:
        if info.file_size > max_bytes:
            raise DocumentRejected(
                label,
                "too_large",
                f"zip member is {info.file_size:,} bytes uncompressed",
                expected="a smaller member, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
            )
        try:
            with archive.open(info) as handle:
                data = handle.read(max_bytes + 1)
        # zipfile raises NotImplementedError for a compression method it cannot decode (deflate64, implode, …):
        # that member is unreadable input, quarantined like a corrupt one — not unfinished code
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise DocumentRejected(
                label, "corrupt_zip_member", f"cannot read zip member: {exc}", expected="an intact zip member"
            ) from exc
        if len(data) > max_bytes:
            raise DocumentRejected(
                label,
                "too_large",
                "zip member expands past the size limit",
                expected="a smaller member, or raise TIPFUSION_MAX_DOCUMENT_BYTES",
            )
        return data

    return load


def iter_documents(paths: list[Path], max_bytes: int) -> Iterator[Document | LoadedDocument | BrokenContainer]:
    """Yield every document under `paths` in a stable order.

    A zip yields itself first (a LoadedDocument with format 'zip', kept byte for byte) and then its members;
    a zip that cannot be read yields a BrokenContainer.
    """
    for root in paths:
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such file or directory")
        for path in _walk(root):
            name = os.path.basename(path)
            if name.startswith("."):
                continue
            if name.lower().endswith(".zip"):
                with open(path, "rb") as handle:
                    yield from iter_zip(path, handle.read(), max_bytes)
            else:
                yield Document(path, _reader(path))


def _walk(root: Path) -> Iterator[str]:
    """Every file under `root` in a stable (sorted) order; plain strings, as path objects are slow at this scale."""
    if not root.is_dir():
        yield str(root)
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(folder, name)


def _reader(path: str) -> Callable[[], bytes]:
    def load() -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    return load


def iter_zip(label: str, data: bytes, max_bytes: int) -> Iterator[Document | LoadedDocument | BrokenContainer]:
    loaded = LoadedDocument(label, data, hashlib.sha256(data).hexdigest())
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        yield BrokenContainer(
            loaded,
            DocumentRejected(
                label, "corrupt_zip", f"cannot open zip: {exc}", expected="a complete, readable .zip archive"
            ),
        )
        return
    yield loaded
    for info in members:
        base = info.filename.rsplit("/", 1)[-1]
        if base.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue
        member_label = f"{label}!{info.filename}"
        if info.filename.lower().endswith(".zip"):
            try:
                inner = _member_reader(archive, info, member_label, max_bytes)()
            except DocumentRejected as exc:
                yield BrokenContainer(LoadedDocument(member_label, b"", "", loaded.sha256), exc)  # unread: no sha
                continue
            yield from iter_zip(member_label, inner, max_bytes)
            continue
        yield Document(
            member_label,
            _member_reader(archive, info, member_label, max_bytes),
            container=loaded.sha256,
            size_hint=info.file_size,
        )
